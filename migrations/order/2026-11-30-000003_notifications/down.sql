DROP TABLE email_notifications;

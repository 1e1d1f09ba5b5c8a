DROP TABLE undeclared;
DROP TABLE gadgets;

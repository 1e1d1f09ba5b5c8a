//! Disputes: `pm_card_createDispute` charges are disputed after they succeed; a control call
//! closes the dispute as won or lost (https://docs.stripe.com/testing#disputes).

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::ids;
use crate::objects::Dispute;
use crate::params::Params;
use crate::store::{Ctx, Store, to_json};

/// Days a merchant has to answer a dispute in test mode (`evidence_details.due_by`).
const EVIDENCE_DAYS: i64 = 7;

impl Store {
    /// Opens a dispute on a captured charge: `charge.dispute.created` and
    /// `charge.dispute.funds_withdrawn`, as Stripe sends them.
    pub(crate) fn open_dispute(&mut self, ctx: &Ctx, charge_id: &str) -> Option<String> {
        let charge = self.charges.get_mut(charge_id)?;
        charge.disputed = true;
        let dispute = Dispute {
            id: ids::new("dp"),
            object: "dispute",
            amount: charge.amount_captured,
            balance_transactions: Vec::new(),
            charge: charge_id.to_owned(),
            created: ctx.now,
            currency: charge.currency.clone(),
            enhanced_eligibility_types: Vec::new(),
            evidence: json!({"enhanced_evidence": {}}),
            evidence_details: json!({
                "due_by": ctx.now + EVIDENCE_DAYS * 86_400,
                "enhanced_eligibility": {},
                "has_evidence": false,
                "past_due": false,
                "submission_count": 0,
            }),
            is_charge_refundable: false,
            livemode: false,
            metadata: std::collections::BTreeMap::new(),
            payment_intent: charge.payment_intent.clone(),
            reason: "fraudulent".to_owned(),
            status: "needs_response",
        };
        let id = dispute.id.clone();
        let body = to_json(&dispute);
        self.disputes.insert(id.clone(), dispute);
        self.emit(ctx, "charge.dispute.created", body.clone(), None);
        self.emit(ctx, "charge.dispute.funds_withdrawn", body, None);
        Some(id)
    }

    /// Emulator control: closes a dispute as `won` or `lost` (`charge.dispute.closed`, and
    /// `charge.dispute.funds_reinstated` when won).
    pub fn close_dispute(&mut self, ctx: &Ctx, id: &str, won: bool) -> Result<Value, ApiError> {
        let dispute = self.dispute(id)?;
        if matches!(dispute.status, "won" | "lost") {
            return Err(ApiError::invalid_uncoded(format!(
                "Dispute {id} is already closed ({}).",
                dispute.status
            )));
        }
        let previous = json!({"status": dispute.status});
        let Some(dispute) = self.disputes.get_mut(id) else {
            return Err(ApiError::no_such("dispute", id, "dispute"));
        };
        dispute.status = if won { "won" } else { "lost" };
        let body = to_json(&*dispute);
        if won {
            self.emit(ctx, "charge.dispute.funds_reinstated", body.clone(), None);
        }
        self.emit(ctx, "charge.dispute.closed", body.clone(), Some(previous));
        Ok(body)
    }

    /// `GET /v1/disputes`: newest first, filtered by `payment_intent` or `charge` (Stripe's list
    /// shape; `limit` 1–100, default 10; no pagination cursor is needed by anything here).
    pub fn list_disputes(&self, params: &Params) -> Result<Value, ApiError> {
        params.only(&["payment_intent", "charge", "limit", "expand"])?;
        let pi = params.str("payment_intent")?;
        let charge = params.str("charge")?;
        let limit = params.int("limit")?.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::invalid_uncoded("limit must be between 1 and 100").with_param("limit"));
        }
        let mut found: Vec<&Dispute> = self
            .disputes
            .values()
            .filter(|d| pi.as_deref().is_none_or(|p| d.payment_intent == p))
            .filter(|d| charge.as_deref().is_none_or(|c| d.charge == c))
            .collect();
        found.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));
        let total = found.len();
        let take = usize::try_from(limit).unwrap_or(10);
        let data: Vec<Value> = found.into_iter().take(take).map(to_json).collect();
        Ok(json!({"object": "list", "data": data, "has_more": total > take, "url": "/v1/disputes"}))
    }

    /// The dispute on a PaymentIntent's latest charge, if any.
    pub fn dispute_for(&self, pi_id: &str) -> Option<&Dispute> {
        let charge = self.payment_intents.get(pi_id)?.latest_charge.as_deref()?;
        self.disputes.values().find(|d| d.charge == charge)
    }
}

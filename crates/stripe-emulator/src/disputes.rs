//! Disputes: `pm_card_createDispute` charges are disputed after they succeed; a control call
//! closes the dispute as won or lost (https://docs.stripe.com/testing#disputes).

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::ids;
use crate::objects::Dispute;
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

    /// The dispute on a PaymentIntent's latest charge, if any.
    pub fn dispute_for(&self, pi_id: &str) -> Option<&Dispute> {
        let charge = self.payment_intents.get(pi_id)?.latest_charge.as_deref()?;
        self.disputes.values().find(|d| d.charge == charge)
    }
}

//! Property tests for the payment and fulfilment state machines.

#![allow(clippy::unwrap_used)] // a panic is the failure report

use std::collections::BTreeSet;

use domain::order::{
    FULFILLMENT_TRANSITIONS, FulfillmentEvent, FulfillmentStatus, PAYMENT_TRANSITIONS, PaymentEvent,
    PaymentStatus,
};
use proptest::prelude::*;

fn payment_event() -> impl Strategy<Value = PaymentEvent> {
    prop_oneof![
        Just(PaymentEvent::Processing),
        Just(PaymentEvent::Succeeded),
        Just(PaymentEvent::Failed),
        Just(PaymentEvent::Canceled),
        any::<bool>().prop_map(|fully| PaymentEvent::Refunded { fully }),
    ]
}

fn fulfillment_event() -> impl Strategy<Value = FulfillmentEvent> {
    prop::sample::select(vec![
        FulfillmentEvent::PartiallyFulfilled,
        FulfillmentEvent::Fulfilled,
        FulfillmentEvent::Shipped,
        FulfillmentEvent::Delivered,
    ])
}

/// The states reachable from `Pending` by following the table's rows (a graph search).
fn reachable_from_pending() -> Vec<PaymentStatus> {
    let mut seen = vec![PaymentStatus::Pending];
    let mut i = 0;
    while let Some(&state) = seen.get(i) {
        for &(from, _, to) in PAYMENT_TRANSITIONS {
            if from == state && !seen.contains(&to) {
                seen.push(to);
            }
        }
        i += 1;
    }
    seen
}

#[test]
fn every_payment_state_is_reachable() {
    assert_eq!(reachable_from_pending().len(), PaymentStatus::ALL.len());
}

#[test]
fn tables_have_no_conflicting_rows() {
    let pay: BTreeSet<_> = PAYMENT_TRANSITIONS.iter().map(|(f, e, _)| format!("{f}/{e}")).collect();
    assert_eq!(pay.len(), PAYMENT_TRANSITIONS.len());
    let ful: BTreeSet<_> = FULFILLMENT_TRANSITIONS.iter().map(|(f, e, _)| format!("{f}/{e}")).collect();
    assert_eq!(ful.len(), FULFILLMENT_TRANSITIONS.len());
}

proptest! {
    #[test]
    fn random_payment_histories_stay_on_the_table(events in prop::collection::vec(payment_event(), 0..40)) {
        let reachable = reachable_from_pending();
        let mut state = PaymentStatus::Pending;
        for event in events {
            match state.apply(event) {
                Ok(next) => {
                    prop_assert!(PAYMENT_TRANSITIONS.contains(&(state, event, next)));
                    state = next;
                }
                Err(err) => {
                    prop_assert_eq!((err.from, err.event), (state, event));
                    // A duplicate is exactly an event whose rows lead into the current state.
                    let leads_here = PAYMENT_TRANSITIONS.iter().any(|&(_, e, to)| e == event && to == state);
                    prop_assert_eq!(err.is_duplicate(), leads_here);
                }
            }
            prop_assert!(reachable.contains(&state));
        }
    }

    #[test]
    fn refunded_is_terminal(event in payment_event()) {
        prop_assert!(PaymentStatus::Refunded.apply(event).is_err());
        prop_assert!(PaymentStatus::Refunded.is_terminal());
    }

    #[test]
    fn once_completed_never_unpaid_again(events in prop::collection::vec(payment_event(), 0..40)) {
        let mut state = PaymentStatus::Completed;
        for event in events {
            state = state.apply(event).unwrap_or(state);
            prop_assert!(
                matches!(state, PaymentStatus::Completed | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded),
                "reached {}", state
            );
        }
    }

    #[test]
    fn fulfilment_never_moves_backwards(events in prop::collection::vec(fulfillment_event(), 0..20)) {
        let mut state = FulfillmentStatus::Unfulfilled;
        for event in events {
            let next = state.apply(event).unwrap_or(state);
            prop_assert!(next >= state, "{} went back to {}", state, next);
            state = next;
        }
    }
}

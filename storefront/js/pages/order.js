// The confirmation: the order read with its X-Order-Token, again every half second until the
// payment has arrived (Stripe's webhook reaches the order service a moment after the card).
import { forgetCart, getOrder } from '../api.js';
import { cents, el, header, refreshCartCount, showError } from '../ui.js';

const root = document.querySelector('[data-test=order]');
const POLL_MS = 500;
const GIVE_UP_MS = 120_000;

function render(o) {
  const paid = o.status === 'paid';
  const c = o.totals.currency;
  root.replaceChildren(
    el('h1', {}, paid ? 'Thank you, your order is confirmed' : `Order ${o.order_number}`),
    el('p', { class: paid ? 'ok' : 'info', 'data-test': 'order-status', 'data-status': o.status },
      paid ? `Order ${o.order_number} is paid.` : `Order ${o.order_number}: ${o.status.replace(/_/g, ' ')} (payment ${o.payment_status}).`),
    el('table', { class: 'lines' },
      el('tbody', {}, o.items.map((i) => el('tr', {}, el('td', {}, `${i.quantity} × ${i.name}`), el('td', {}, cents(i.line_total, c))))),
      el('tfoot', {}, ['subtotal', 'tax', 'shipping', 'total'].map((k) => el('tr', {}, el('th', {}, k), el('td', {}, cents(o.totals[k], c)))))),
    el('p', {}, `A confirmation goes to ${o.customer_email}.`),
    el('a', { href: '/' }, 'Continue shopping'));
}

async function main() {
  header();
  const number = new URLSearchParams(location.search).get('number');
  const started = Date.now();
  for (;;) {
    try {
      const o = await getOrder(number);
      render(o);
      if (o.status !== 'pending_payment' || Date.now() - started > GIVE_UP_MS) {
        if (o.status === 'paid') {
          // The cart service deletes the paid cart; the header shows it empty at once.
          forgetCart();
          refreshCartCount(null);
        }
        document.body.dataset.ready = `order-${o.status}`;
        return;
      }
    } catch (e) {
      showError(root, e);
      document.body.dataset.ready = 'error';
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

main();

// Checkout: contact and addresses → POST /api/v1/checkout (one Idempotency-Key per cart, so
// a retry or a second card finds the same order), then the card at Stripe (the emulator) in
// Stripe.js's shape: confirm with the PaymentIntent's client_secret and the publishable key,
// 3-D Secure in a modal when the card asks for it, then the confirmation page.
import { checkout, getCart, rememberOrder, storefrontConfig } from '../api.js';
import { Stripe } from '../stripe.js';
import { el, header, showError } from '../ui.js';

const form = document.querySelector('[data-test=checkout-form]');
const status = document.querySelector('[data-test=checkout-status]');
const summaryBox = document.querySelector('[data-test=order-summary]');
const billing = form.querySelector('[data-address=billing]');

function address(fieldset) {
  const a = {};
  for (const input of fieldset.querySelectorAll('input, select')) {
    if (input.value.trim()) a[input.name] = input.value.trim();
  }
  return a;
}

/** The card fields as Stripe.js's card element would hand them to Stripe. */
function card() {
  const [month, year] = form.elements.namedItem('exp').value.split('/').map((s) => s.trim());
  return {
    number: form.elements.namedItem('number').value.replace(/\s+/g, ''),
    exp_month: month,
    exp_year: year && year.length === 2 ? `20${year}` : year,
    cvc: form.elements.namedItem('cvc').value.trim(),
  };
}

function say(text, cls = 'info') {
  status.replaceChildren(el('p', { class: cls, role: cls === 'error' ? 'alert' : null }, text));
}

async function pay(ev) {
  ev.preventDefault();
  if (!form.reportValidity()) return;
  const button = form.querySelector('[data-test=pay]');
  button.disabled = true;
  try {
    const shipping = address(form.querySelector('[data-address=shipping]'));
    const details = {
      customer_email: form.elements.namedItem('customer_email').value.trim(),
      customer_name: form.elements.namedItem('customer_name').value.trim(),
      shipping_address: shipping,
      billing_address: form.elements.namedItem('billing_same').checked ? shipping : address(billing),
    };
    say('Placing the order…');
    const order = await checkout(details);
    rememberOrder(order.order_number, order.access_token);
    const config = await storefrontConfig();
    const stripe = Stripe(config.publishable_key, { apiBase: config.stripe_api_base });
    say(`Order ${order.order_number}: paying ${order.totals.currency} ${(order.totals.total / 100).toFixed(2)}…`);
    const result = await stripe.confirmCardPayment(order.payment.client_secret, {
      payment_method: { card: card(), billing_details: { email: details.customer_email, name: details.customer_name } },
    });
    if (result.error) {
      const why = result.error.code === 'payment_intent_authentication_failure'
        ? 'Your bank could not confirm the payment (3-D Secure).'
        : (result.error.message ?? 'The payment failed.');
      say(`${why} Try again or use another card.`, 'error');
      return;
    }
    location.assign(`/order.html?number=${encodeURIComponent(order.order_number)}`);
  } catch (e) {
    showError(status, e);
  } finally {
    button.disabled = false;
  }
}

async function main() {
  header();
  form.elements.namedItem('billing_same').addEventListener('change', (e) => {
    billing.hidden = e.target.checked;
    for (const i of billing.querySelectorAll('input[name=line1], input[name=city], input[name=postal_code]')) i.required = !e.target.checked;
  });
  form.addEventListener('submit', pay);
  try {
    const cart = await getCart();
    if (!cart || cart.items.length === 0) {
      summaryBox.replaceChildren(el('p', {}, 'Your cart is empty. ', el('a', { href: '/' }, 'Browse products')));
      form.querySelector('[data-test=pay]').disabled = true;
    } else {
      summaryBox.replaceChildren(
        el('h2', {}, 'Your order'),
        el('ul', {}, cart.items.map((l) => el('li', {}, `${l.quantity} × ${l.name ?? l.sku}`, el('span', {}, l.line_total?.formatted ?? '')))),
        el('p', {}, 'Subtotal ', el('strong', {}, cart.totals.subtotal?.formatted ?? '—')),
        el('p', { class: 'hint' }, 'Tax and shipping are added by the order.'));
    }
    document.body.dataset.ready = 'checkout';
  } catch (e) {
    showError(summaryBox, e);
    document.body.dataset.ready = 'error';
  }
}

main();

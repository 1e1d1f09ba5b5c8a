// The part of Stripe.js the storefront needs, in Stripe.js's shape, against the Stripe
// emulator (or any Stripe-compatible API base): `Stripe(publishableKey, {apiBase})` with
// `confirmCardPayment(clientSecret, {payment_method: {card, billing_details}})` and
// `retrievePaymentIntent(clientSecret)`, both resolving to `{paymentIntent}` or `{error}`.
//
// As Stripe.js does, the browser talks to Stripe's API itself with the publishable key and
// the PaymentIntent's client_secret (form-encoded, so no CORS preflight), never with the
// secret key. When the card needs 3-D Secure, confirm answers `requires_action` with
// `next_action.use_stripe_sdk.stripe_js`: that page (the emulator's challenge, Stripe's
// "test authentication" page in real life) is shown in a modal iframe; it reports back with
// postMessage, then the PaymentIntent is read again.

function form(params, prefix = '', out = new URLSearchParams()) {
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    const key = prefix ? `${prefix}[${k}]` : k;
    if (typeof v === 'object') form(v, key, out);
    else out.append(key, String(v));
  }
  return out;
}

const intentId = (clientSecret) => String(clientSecret).split('_secret_')[0];

export function Stripe(publishableKey, { apiBase }) {
  if (!/^pk_test_/.test(publishableKey)) throw new Error('a test-mode publishable key (pk_test_...) is needed');
  const base = apiBase.replace(/\/$/, '');

  async function call(method, path, params) {
    const body = form({ key: publishableKey, ...params });
    const url = method === 'GET' ? `${base}${path}?${body}` : `${base}${path}`;
    const res = await fetch(url, method === 'GET' ? {} : {
      method,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    const data = await res.json();
    return res.ok ? { paymentIntent: data } : { error: data.error ?? { message: `Stripe answered ${res.status}` } };
  }

  async function retrievePaymentIntent(clientSecret) {
    return call('GET', `/v1/payment_intents/${intentId(clientSecret)}`, { client_secret: clientSecret });
  }

  async function confirmCardPayment(clientSecret, { payment_method: pm }) {
    const params = { client_secret: clientSecret, use_stripe_sdk: true };
    if (typeof pm === 'string') params.payment_method = pm;
    else params.payment_method_data = { type: 'card', card: pm.card, billing_details: pm.billing_details };
    const confirmed = await call('POST', `/v1/payment_intents/${intentId(clientSecret)}/confirm`, params);
    const pi = confirmed.paymentIntent;
    if (!pi || pi.status !== 'requires_action') return confirmed;
    await challenge(pi.next_action);
    const after = await retrievePaymentIntent(clientSecret);
    if (after.paymentIntent && after.paymentIntent.status === 'requires_payment_method') {
      return { error: { ...after.paymentIntent.last_payment_error, payment_intent: after.paymentIntent } };
    }
    return after;
  }

  return { confirmCardPayment, retrievePaymentIntent };
}

/** Shows the issuer's 3-D Secure page in a modal until it posts its result back. */
function challenge(nextAction) {
  const url = nextAction?.use_stripe_sdk?.stripe_js ?? nextAction?.redirect_to_url?.url;
  if (!url) return Promise.reject(new Error('the PaymentIntent needs an action this page cannot take'));
  const origin = new URL(url).origin;
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'three-ds';
    dialog.dataset.test = 'three-ds';
    const title = document.createElement('h2');
    title.textContent = 'Confirm the payment with your bank';
    const frame = document.createElement('iframe');
    frame.src = url;
    frame.title = '3-D Secure authentication';
    frame.name = 'three-ds-challenge';
    dialog.append(title, frame);
    document.body.append(dialog);
    function done(event) {
      if (event.origin !== origin || event.data?.type !== 'stripe-3ds-result') return;
      window.removeEventListener('message', done);
      dialog.close();
      dialog.remove();
      resolve(event.data);
    }
    window.addEventListener('message', done);
    dialog.showModal();
  });
}

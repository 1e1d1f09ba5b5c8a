// Page chrome and small helpers shared by every page.
import { getCart } from './api.js';

/** Builds an element: el('a', {href: '/'}, 'text', child...). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) e.append(c.nodeType ? c : String(c));
  return e;
}

/** Integer minor units as the seed formats them ($29.99). */
export function cents(amount, currency = 'USD') {
  const symbol = { USD: '$', EUR: '€', GBP: '£' }[currency];
  const value = (amount / 100).toFixed(2);
  return symbol ? `${symbol}${value}` : `${currency} ${value}`;
}

/** A stable colour per product, standing in for a photo. */
export function hue(text) {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

export function showError(where, error) {
  where.replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message || String(error)));
}

/** The header: shop name, search box and the cart with its item count. */
export async function header() {
  const count = el('span', { class: 'count', 'data-test': 'cart-count' }, '0');
  document.querySelector('header').replaceChildren(
    el('a', { class: 'brand', href: '/' }, 'Commerce'),
    el('form', { class: 'search', action: '/', method: 'get', role: 'search' },
      el('input', { type: 'search', name: 'search', placeholder: 'Search products', 'aria-label': 'Search products' })),
    el('a', { class: 'cart-link', href: '/cart.html' }, 'Cart ', count),
  );
  await refreshCartCount();
}

// The latest refresh wins: a slow read started earlier (the header's, say) must not overwrite
// what a later one already showed (the confirmation's empty cart once the order is paid).
let refreshes = 0;

export async function refreshCartCount(cart) {
  const count = document.querySelector('[data-test=cart-count]');
  if (!count) return;
  const mine = ++refreshes;
  let text;
  try {
    const c = cart === undefined ? await getCart() : cart;
    text = String(c?.totals?.item_count ?? 0);
  } catch {
    text = '?';
  }
  if (mine === refreshes) count.textContent = text;
}

// The public API through the gateway (same origin): catalog, cart, checkout, orders.
// Only routes of /work/shared/design/API.md; the guest cart travels as X-Cart-Token and an
// order as X-Order-Token, both kept in this browser's localStorage.

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

function describe(status, body) {
  if (body && typeof body === 'object') {
    if (body.messages) {
      const parts = Object.entries(body.messages).map(([field, msgs]) => `${field}: ${[].concat(msgs).join(', ')}`);
      return `${body.error || 'Error'} (${parts.join('; ')})`;
    }
    if (body.error === 'Insufficient stock') return `Only ${body.available} left in stock.`;
    if (body.error) return body.message ? `${body.error}: ${body.message}` : String(body.error);
  }
  return `Request failed (${status})`;
}

async function request(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// ---- catalog ----
export const LISTING_PARAMS = ['page', 'per_page', 'category', 'min_price', 'max_price', 'in_stock', 'search', 'sort_by', 'sort_order'];

export function listProducts(query) {
  const q = new URLSearchParams();
  for (const k of LISTING_PARAMS) {
    const v = query.get(k);
    if (v !== null && v !== '') q.set(k, v);
  }
  return request('GET', `/api/v1/products?${q}`);
}

/** One product: the page answers `{"data": {...}}`. */
export const getProduct = async (slug) => (await request('GET', `/api/v1/products/${encodeURIComponent(slug)}`)).data;

// ---- the guest cart ----
const CART_KEY = 'storefront.cart';

export function storedCart() {
  try {
    return JSON.parse(localStorage.getItem(CART_KEY) || 'null');
  } catch {
    return null;
  }
}

export function forgetCart() {
  localStorage.removeItem(CART_KEY);
}

const cartHeaders = (c) => ({ 'X-Cart-Token': c.token });

async function ensureCart() {
  const known = storedCart();
  if (known) return known;
  const created = await request('POST', '/api/v1/carts');
  const c = { id: created.id, token: created.token };
  localStorage.setItem(CART_KEY, JSON.stringify(c));
  return c;
}

/** The stored cart, or null when there is none (or it is gone: paid, expired, deleted). */
export async function getCart() {
  const c = storedCart();
  if (!c) return null;
  try {
    return await request('GET', `/api/v1/carts/${c.id}`, { headers: cartHeaders(c) });
  } catch (e) {
    if (e.status === 404) {
      forgetCart();
      return null;
    }
    throw e;
  }
}

export async function addToCart(sku, quantity) {
  let c = await ensureCart();
  try {
    return await request('POST', `/api/v1/carts/${c.id}/items`, { headers: cartHeaders(c), body: { sku, quantity } });
  } catch (e) {
    if (e.status !== 404) throw e;
    // The stored cart is gone (paid or expired): start a new one.
    forgetCart();
    c = await ensureCart();
    return request('POST', `/api/v1/carts/${c.id}/items`, { headers: cartHeaders(c), body: { sku, quantity } });
  }
}

export function setQuantity(itemId, quantity) {
  const c = storedCart();
  return request('PATCH', `/api/v1/carts/${c.id}/items/${itemId}`, { headers: cartHeaders(c), body: { quantity } });
}

export function removeLine(itemId) {
  const c = storedCart();
  return request('DELETE', `/api/v1/carts/${c.id}/items/${itemId}`, { headers: cartHeaders(c) });
}

// ---- checkout and orders ----

/** One Idempotency-Key per cart: a retried or repeated checkout gets the same order back. */
function checkoutKey(cartId) {
  const k = `storefront.checkout-key.${cartId}`;
  let key = sessionStorage.getItem(k);
  if (!key) {
    key = `storefront-${crypto.randomUUID()}`;
    sessionStorage.setItem(k, key);
  }
  return key;
}

export function checkout(details) {
  const c = storedCart();
  return request('POST', '/api/v1/checkout', {
    headers: { ...cartHeaders(c), 'Idempotency-Key': checkoutKey(c.id) },
    body: { cart_id: c.id, ...details },
  });
}

const ORDERS_KEY = 'storefront.orders';

export function rememberOrder(number, accessToken) {
  const all = JSON.parse(localStorage.getItem(ORDERS_KEY) || '{}');
  all[number] = accessToken;
  localStorage.setItem(ORDERS_KEY, JSON.stringify(all));
}

export function getOrder(number) {
  const token = JSON.parse(localStorage.getItem(ORDERS_KEY) || '{}')[number];
  if (!token) return Promise.reject(new ApiError(404, { error: 'This order was not placed in this browser.' }));
  return request('GET', `/api/v1/orders/${encodeURIComponent(number)}`, { headers: { 'X-Order-Token': token } });
}

// ---- the storefront's configuration (written by scripts/gateway.sh from the environment) ----
let config;
export async function storefrontConfig() {
  config ??= await request('GET', '/storefront-config.json');
  return config;
}

// The storefront in headless Chromium, against a running stack (scripts/storefront-test.sh
// starts one): browse and search, product, cart, checkout, pay with 4242 4242 4242 4242, the
// confirmation polls until paid; then a second purchase with the 3-D Secure card: the
// challenge is failed once (the page says so and the shopper may try again), then completed.
//
//   STOREFRONT_URL=http://127.0.0.1:18500 SHOTS=target/storefront node e2e/storefront.test.mjs
//
// Every wait is for a selector or a condition, with a deadline; no sleeps. A screenshot of
// each step goes to $SHOTS/NN-step.png and its name is printed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.STOREFRONT_URL ?? 'http://127.0.0.1:8080';
const SHOTS = process.env.SHOTS ?? 'target/storefront';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const STEP_MS = Number(process.env.STEP_TIMEOUT_MS ?? 20_000);

mkdirSync(SHOTS, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.setDefaultTimeout(STEP_MS);
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
// A failed request is judged by its URL below; the console's copy of it names none.
page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource')
  && problems.push(`console: ${m.text()}`));
// Any answer >= 400 is a problem, except the one the pages expect and handle: reading a cart
// the cart service has just deleted because its order was paid (404: start afresh).
const GONE_CART = /^GET \/api\/v1\/carts\/[^/]+$/;
page.on('response', (r) => {
  if (r.status() < 400) return;
  const req = r.request();
  const what = `${req.method()} ${new URL(r.url()).pathname}`;
  if (r.status() === 404 && GONE_CART.test(what)) return;
  problems.push(`${what} answered ${r.status()}`);
});

let shot = 0;
async function snap(name) {
  // Whatever the step, the page never shows a value the code failed to render.
  const text = await page.evaluate(() => document.body.innerText);
  const broken = ['[object ', 'undefined', 'NaN'].find((bad) => text.includes(bad));
  if (broken && name !== 'failure') problems.push(`${name}: the page shows "${broken}"`);
  shot += 1;
  const file = join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`storefront: screenshot ${file}`);
}

function step(text) {
  console.log(`storefront: ${text}`);
}

async function ready(name) {
  await page.waitForSelector(`body[data-ready="${name}"]`);
}

async function addToCart(slugText, quantity) {
  await page.getByRole('link', { name: slugText }).first().click();
  await ready('product');
  await page.fill('input[name=quantity]', String(quantity));
  await page.click('[data-test=add-to-cart]');
  await page.waitForSelector('[data-test=added]');
}

async function fillCheckout(cardNumber) {
  await page.goto(`${BASE}/checkout.html`);
  await ready('checkout');
  await page.fill('input[name=customer_email]', 'ada@example.com');
  await page.fill('input[name=customer_name]', 'Ada Lovelace');
  const ship = page.locator('[data-address=shipping]');
  await ship.locator('input[name=line1]').fill('1 Main St');
  await ship.locator('input[name=city]').fill('Springfield');
  await ship.locator('input[name=postal_code]').fill('12345');
  await page.fill('input[name=number]', cardNumber);
  await page.fill('input[name=exp]', '12 / 34');
  await page.fill('input[name=cvc]', '123');
}

async function paidConfirmation() {
  await page.waitForURL(/\/order\.html\?number=/);
  await page.waitForSelector('[data-test=order-status][data-status=paid]');
  // The paid cart is gone: the header shows an empty cart.
  await page.waitForFunction(() => document.querySelector('[data-test=cart-count]')?.textContent === '0');
  return page.textContent('[data-test=order-status]');
}

try {
  // 1. Browse, then search with the listing's filters.
  await page.goto(BASE);
  await ready('listing');
  await page.waitForSelector('[data-test=product-tile]');
  step(`home: ${await page.locator('[data-test=product-tile]').count()} products`);
  await snap('home');
  const filters = page.locator('[data-test=filters]');
  await filters.locator('input[name=search]').fill('shirt');
  await filters.locator('input[name=max_price]').fill('50');
  await filters.locator('input[name=in_stock]').check();
  await filters.locator('select[name=sort]').selectOption('price_cents:asc');
  await filters.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/search=shirt/);
  await ready('listing');
  const found = await page.locator('[data-test=product-tile]').count();
  if (found !== 1) throw new Error(`search "shirt" under $50 found ${found} products, expected 1`);
  step(`search: ${await page.textContent('[data-test=summary]')}`);
  await snap('search');

  // 2. The product page; add two to the guest cart.
  await addToCart('Premium Cotton T-Shirt', 2);
  await page.waitForFunction(() => document.querySelector('[data-test=cart-count]')?.textContent === '2');
  await snap('product-added');

  // 3. The cart: a second line is added, its quantity changed, then removed.
  await page.goto(`${BASE}/?category=clothing&sort=name:asc`);
  await ready('listing');
  await addToCart('Classic Denim Jeans', 1);
  await page.goto(`${BASE}/cart.html`);
  await ready('cart');
  const jeans = page.locator('[data-test=cart-line][data-sku="JEANS-DNM-32"]');
  await jeans.locator('[data-test=line-quantity]').fill('3');
  await jeans.locator('[data-test=line-quantity]').dispatchEvent('change');
  await page.waitForFunction(() => document.querySelector('[data-test=cart-count]')?.textContent === '5');
  await snap('cart-two-lines');
  await jeans.locator('[data-test=remove-line]').click();
  await jeans.waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.querySelector('[data-test=cart-count]')?.textContent === '2');
  step(`cart: subtotal ${await page.textContent('[data-test=subtotal]')}`);
  await snap('cart');

  // 4. Checkout and pay with the card that succeeds.
  await page.click('[data-test=to-checkout]');
  await fillCheckout('4242 4242 4242 4242');
  await snap('checkout');
  await page.click('[data-test=pay]');
  step(`paid: ${await paidConfirmation()}`);
  await snap('confirmation-paid');

  // 5. A second purchase with the 3-D Secure card: the challenge failed, then completed.
  await page.goto(`${BASE}/?category=footwear`);
  await ready('listing');
  await addToCart('Performance Running Shoes', 1);
  await fillCheckout('4000 0027 6000 3184');
  await page.click('[data-test=pay]');
  let challenge = page.frameLocator('[data-test=three-ds] iframe');
  await challenge.getByRole('button', { name: 'Fail authentication' }).waitFor();
  await snap('3ds-challenge');
  await challenge.getByRole('button', { name: 'Fail authentication' }).click();
  await page.waitForSelector('[data-test=checkout-status] .error');
  step(`3-D Secure failed: ${await page.textContent('[data-test=checkout-status]')}`);
  await snap('3ds-failed');
  await page.click('[data-test=pay]');
  challenge = page.frameLocator('[data-test=three-ds] iframe');
  await challenge.getByRole('button', { name: 'Complete authentication' }).click();
  step(`3-D Secure paid: ${await paidConfirmation()}`);
  await snap('3ds-confirmation-paid');

  if (problems.length) throw new Error(`the browser reported errors:\n  ${problems.join('\n  ')}`);
  step(`passed: ${shot} screenshots in ${SHOTS}`);
} catch (e) {
  await snap('failure').catch(() => {});
  console.error(`storefront: FAILED at ${page.url()}: ${e.message}`);
  for (const p of problems) console.error(`  ${p}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}

// A product page: details, availability, and adding a quantity to the guest cart.
import { addToCart, getProduct } from '../api.js';
import { el, header, hue, refreshCartCount, showError } from '../ui.js';

const root = document.querySelector('[data-test=product]');

async function main() {
  header();
  const slug = new URLSearchParams(location.search).get('slug');
  try {
    if (!slug) throw new Error('No product given.');
    const p = await getProduct(slug);
    document.title = `${p.name} · Commerce`;
    const status = el('div', { 'data-test': 'add-status', 'aria-live': 'polite' });
    const qty = el('input', { type: 'number', name: 'quantity', min: '1', max: '99', value: '1', 'aria-label': 'Quantity' });
    const button = el('button', { type: 'submit', 'data-test': 'add-to-cart', disabled: !p.availability.in_stock }, 'Add to cart');
    const form = el('form', { class: 'add' }, qty, button, status);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      button.disabled = true;
      try {
        const cart = await addToCart(p.sku, Number(qty.value));
        status.replaceChildren(el('p', { class: 'ok', 'data-test': 'added' }, 'Added to your cart. ', el('a', { href: '/cart.html' }, 'View cart')));
        refreshCartCount(cart);
      } catch (e) {
        showError(status, e);
      } finally {
        button.disabled = false;
      }
    });
    const attrs = Object.entries(p.attributes ?? {}).map(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]);
    root.replaceChildren(
      el('div', { class: 'swatch big', style: `--hue: ${hue(p.sku)}` }, p.attributes?.category ?? ''),
      el('div', {},
        el('h1', {}, p.name),
        el('p', { class: 'price', 'data-test': 'price' }, p.price.formatted),
        el('p', { class: 'description' }, p.description ?? ''),
        el('dl', {}, el('dt', {}, 'sku'), el('dd', {}, p.sku), attrs),
        el('p', { class: p.availability.in_stock ? 'stock' : 'stock out' },
          p.availability.in_stock ? `In stock (${p.availability.quantity})` : 'Out of stock'),
        form));
    document.body.dataset.ready = 'product';
  } catch (e) {
    showError(root, e);
    document.body.dataset.ready = 'error';
  }
}

main();

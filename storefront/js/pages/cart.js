// The cart: lines with their reservation status, quantity changes, removal, subtotal.
import { getCart, removeLine, setQuantity } from '../api.js';
import { el, header, refreshCartCount, showError } from '../ui.js';

const root = document.querySelector('[data-test=cart]');

function render(cart) {
  refreshCartCount(cart);
  if (!cart || cart.items.length === 0) {
    root.replaceChildren(el('p', { 'data-test': 'cart-empty' }, 'Your cart is empty. ', el('a', { href: '/' }, 'Browse products')));
    return;
  }
  const status = el('div', { 'aria-live': 'polite' });
  const act = async (fn) => {
    try {
      render(await fn());
    } catch (e) {
      showError(status, e);
    }
  };
  const rows = cart.items.map((line) => {
    const qty = el('input', { type: 'number', min: '1', max: '99', value: String(line.quantity), 'aria-label': `Quantity of ${line.name ?? line.sku}`, 'data-test': 'line-quantity' });
    qty.addEventListener('change', () => act(() => setQuantity(line.id, Number(qty.value))));
    return el('tr', { 'data-test': 'cart-line', 'data-sku': line.sku },
      el('td', {}, line.name ?? line.sku, el('br'), el('small', {}, line.sku)),
      el('td', {}, line.unit_price?.formatted ?? '—'),
      el('td', {}, qty),
      el('td', { 'data-test': 'line-total' }, line.line_total?.formatted ?? '—'),
      el('td', {}, el('small', { class: line.status === 'unavailable' ? 'error' : '' },
        line.status === 'unavailable' ? `unavailable (${line.available ?? 0} left)` : line.status)),
      el('td', {}, el('button', { type: 'button', class: 'link', 'data-test': 'remove-line', onclick: () => act(() => removeLine(line.id)) }, 'Remove')));
  });
  root.replaceChildren(
    el('table', { class: 'lines' },
      el('thead', {}, el('tr', {}, ...['Product', 'Price', 'Quantity', 'Total', 'Status', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows)),
    el('p', { class: 'subtotal' }, 'Subtotal: ', el('strong', { 'data-test': 'subtotal' }, cart.totals.subtotal?.formatted ?? '—'),
      ` (${cart.totals.item_count ?? 0} items)`),
    status,
    el('a', { class: 'button', href: '/checkout.html', 'data-test': 'to-checkout' }, 'Checkout'));
}

async function main() {
  header();
  try {
    render(await getCart());
    document.body.dataset.ready = 'cart';
  } catch (e) {
    showError(root, e);
    document.body.dataset.ready = 'error';
  }
}

main();

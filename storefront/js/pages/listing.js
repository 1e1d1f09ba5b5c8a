// The listing: the catalog's filters (search, category, price range, in stock), sort and
// pagination, all kept in this page's query string so a result can be linked and reloaded.
import { listProducts } from '../api.js';
import { el, header, hue, showError } from '../ui.js';

const query = new URLSearchParams(location.search);
const form = document.querySelector('[data-test=filters]');
const grid = document.querySelector('[data-test=products]');
const summary = document.querySelector('[data-test=summary]');
const pager = document.querySelector('[data-test=pagination]');

function apiQuery() {
  const q = new URLSearchParams(query);
  const [sortBy, sortOrder] = (query.get('sort') || '').split(':');
  if (sortBy) q.set('sort_by', sortBy);
  if (sortOrder) q.set('sort_order', sortOrder);
  return q;
}

function fillForm() {
  for (const [k, v] of query) {
    const field = form.elements.namedItem(k);
    if (!field) continue;
    if (field.type === 'checkbox') field.checked = v === 'true';
    else field.value = v;
  }
}

// The categories on offer: those of the products in the unfiltered listing (the API has no
// category list; 100 is its largest page).
async function categories() {
  const select = form.elements.namedItem('category');
  try {
    const all = await listProducts(new URLSearchParams({ per_page: '100' }));
    const names = [...new Set(all.data.map((p) => p.attributes?.category).filter(Boolean))].sort();
    for (const n of names) select.append(el('option', { value: n }, n[0].toUpperCase() + n.slice(1)));
  } catch {
    /* the filter still works by URL */
  }
  select.value = query.get('category') || '';
}

function card(p) {
  const href = `/product.html?slug=${encodeURIComponent(p.slug)}`;
  return el('article', { class: 'tile', 'data-test': 'product-tile', 'data-sku': p.sku },
    el('a', { href }, el('div', { class: 'swatch', style: `--hue: ${hue(p.sku)}` }, p.attributes?.category ?? ''), el('h2', {}, p.name)),
    el('p', { class: 'price' }, p.price.formatted),
    el('p', { class: p.availability.in_stock ? 'stock' : 'stock out' }, p.availability.in_stock ? 'In stock' : 'Out of stock'));
}

function pageLink(page, label, current) {
  if (!page) return el('span', { class: 'disabled' }, label);
  const q = new URLSearchParams(query);
  q.set('page', String(page));
  return el('a', { href: `/?${q}`, 'aria-current': current ? 'page' : null, 'data-test': `page-${label}` }, label);
}

async function main() {
  header();
  fillForm();
  categories();
  try {
    const result = await listProducts(apiQuery());
    const { current_page: page, last_page: last, total } = result.meta;
    summary.textContent = `${total} product${total === 1 ? '' : 's'}${query.get('search') ? ` for “${query.get('search')}”` : ''}`;
    grid.replaceChildren(...(result.data.length ? result.data.map(card) : [el('p', { 'data-test': 'empty' }, 'Nothing matches these filters.')]));
    pager.replaceChildren(
      pageLink(page > 1 ? page - 1 : null, 'previous'),
      el('span', {}, `Page ${page} of ${Math.max(last, 1)}`),
      pageLink(page < last ? page + 1 : null, 'next'),
    );
    document.body.dataset.ready = 'listing';
  } catch (e) {
    showError(grid, e);
    document.body.dataset.ready = 'error';
  }
}

main();

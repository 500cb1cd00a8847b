/**
 * Building the page with the DOM: `h()` makes an element, tables come from column lists. Text
 * always goes in as text nodes, so nothing the cluster reports (a task's error, a label) can
 * become markup.
 * @module
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];
export type Attrs = Readonly<Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>>;

/**
 * An element with attributes (`on…` ones are listeners) and children.
 * @example h('a', { href: '#/nodes', class: 'nav' }, 'Nodes')
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** One column of {@link table}. */
export interface Column<T> {
  readonly title: string;
  cell(row: T): Child;
  /** A class for the column's cells (`num` right-aligns). */
  readonly class?: string;
}

/**
 * A table of `rows`, or the `empty` sentence when there are none. Rows are built into a
 * fragment and attached once, which keeps a thousand of them fast.
 */
export function table<T>(
  columns: readonly Column<T>[],
  rows: readonly T[],
  options: { readonly empty: string; readonly rowAttrs?: (row: T) => Attrs },
): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, options.empty);
  const body = document.createElement('tbody');
  const fragment = document.createDocumentFragment();
  for (const row of rows) {
    const tr = h('tr', options.rowAttrs?.(row) ?? null);
    for (const column of columns)
      tr.appendChild(h('td', column.class ? { class: column.class } : null, column.cell(row)));
    fragment.appendChild(tr);
  }
  body.appendChild(fragment);
  const head = h(
    'thead',
    null,
    h(
      'tr',
      null,
      columns.map((c) => h('th', c.class ? { class: c.class } : null, c.title)),
    ),
  );
  return h('div', { class: 'table-wrap' }, h('table', null, head, body));
}

/** A coloured state word. */
export function badge(text: string, tone: 'ok' | 'busy' | 'bad' | 'idle'): HTMLElement {
  return h('span', { class: `badge ${tone}` }, text);
}

/** A titled part of a page. */
export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', null, h('h2', null, title), ...children);
}

/** Replace what `parent` shows. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** One fact of a `dl.facts` summary: a small card with the term above its value. */
export function fact(term: string, value: Child, id?: string): HTMLElement {
  return h('div', null, h('dt', null, term), h('dd', id ? { 'data-fact': id } : null, value));
}

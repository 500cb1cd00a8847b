/**
 * Confirmations, the token prompt and notices. Every action that changes the cluster goes
 * through {@link confirmAction}: the person sees what will happen before it does.
 * @module
 */
import { h } from './dom.js';

/** What {@link confirmAction} asks. */
export interface ConfirmOptions {
  readonly title: string;
  /** What will happen, in a sentence or two. */
  readonly message: string;
  /** The button's word: `Scale`, `Drain`, `Cancel job`. */
  readonly confirm: string;
  /** Red button: the action stops or removes work. */
  readonly danger?: boolean;
  /** A number to choose first (replicas). */
  readonly input?: { readonly label: string; readonly value: number; readonly min: number; readonly max: number };
}

/**
 * Shows a modal dialog; resolves with the chosen number (or 0 without an input) when confirmed,
 * null when dismissed.
 */
export function confirmAction(options: ConfirmOptions): Promise<number | null> {
  const input = options.input
    ? h('input', {
        type: 'number',
        name: 'value',
        min: options.input.min,
        max: options.input.max,
        value: options.input.value,
        required: true,
      })
    : null;
  const ok = h(
    'button',
    { type: 'submit', class: options.danger ? 'danger' : 'primary', value: 'ok' },
    options.confirm,
  );
  const dialog = h(
    'dialog',
    { class: 'confirm' },
    h(
      'form',
      { method: 'dialog' },
      h('h3', null, options.title),
      h('p', null, options.message),
      input && options.input ? h('label', null, options.input.label, ' ', input) : null,
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Back'),
        ok,
      ),
    ),
  );
  return showModal(dialog, () => (input ? Number(input.value) : 0));
}

function showModal<T>(dialog: HTMLDialogElement, value: () => T): Promise<T | null> {
  document.body.appendChild(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const confirmed = dialog.returnValue === 'ok';
      const result = confirmed ? value() : null;
      dialog.remove();
      resolve(result);
    });
    dialog.showModal();
  });
}

let asking: Promise<string | null> | undefined;

/** Asks for the admin token (once, however many requests were refused at the same time). */
export function askToken(reason: string): Promise<string | null> {
  asking ??= (async () => {
    const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true });
    const dialog = h(
      'dialog',
      { class: 'confirm token' },
      h(
        'form',
        { method: 'dialog' },
        h('h3', null, 'Admin token'),
        h('p', null, reason, ' It is kept in this tab only (', h('code', null, 'shoal token show'), ' prints it).'),
        h('label', null, 'Token ', input),
        h(
          'div',
          { class: 'buttons' },
          h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Back'),
          h('button', { type: 'submit', class: 'primary', value: 'ok' }, 'Use token'),
        ),
      ),
    );
    const token = await showModal(dialog, () => input.value.trim());
    asking = undefined;
    return token === '' ? null : token;
  })();
  return asking;
}

/** Keeps the token in the tab's sessionStorage. */
export const sessionTokens = {
  get: (): string | null => sessionStorage.getItem('shoal.token'),
  set: (token: string | null): void => {
    if (token === null) sessionStorage.removeItem('shoal.token');
    else sessionStorage.setItem('shoal.token', token);
  },
  ask: askToken,
};

/** A notice at the bottom of the page, gone after a while (errors stay longer). */
export function notify(text: string, kind: 'ok' | 'error' = 'ok'): void {
  const area = document.getElementById('notices') ?? document.body.appendChild(h('div', { id: 'notices' }));
  const notice = h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  area.appendChild(notice);
  setTimeout(() => notice.remove(), kind === 'error' ? 12_000 : 5_000);
}

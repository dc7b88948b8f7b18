/* global document, fetch, FormData */
import { h } from './dom.js';
// The login dialog: shown when the API answers 401. A successful login sets an HttpOnly session cookie,
// which the live feed and the pictures then carry (they cannot send headers).

export function askLogin(onSuccess) {
  const dialog = document.getElementById('login');
  const form = document.getElementById('login-form');
  const error = document.getElementById('login-error');
  // Behind the dialog the banner says why there is nothing to see, and brings the dialog back once Escape
  // closed it (it would otherwise stay "Waiting for the agent…" until a reload).
  const overall = document.getElementById('overall');
  overall.dataset.overall = 'unknown';
  overall.replaceChildren(
    'Log in to see this box’s status.',
    h('button', { type: 'button', onclick: () => dialog.open || dialog.showModal() }, 'Log in'),
  );
  fetch('/api/auth', { credentials: 'same-origin' })
    .then((r) => r.json())
    .then((auth) => {
      for (const label of form.querySelectorAll('label[data-method]'))
        label.hidden = !auth.methods.includes(label.dataset.method);
      document.getElementById('login-help').textContent = auth.methods.includes('token')
        ? 'This status page is protected. Enter the access token from the box’s configuration (http.auth.token).'
        : 'This status page is protected. Log in with the user and password set for this box.';
    })
    .catch(() => {});
  form.onsubmit = async (event) => {
    event.preventDefault();
    error.textContent = '';
    const data = Object.fromEntries(new FormData(form).entries());
    const body = data.token ? { token: data.token } : { user: data.user, password: data.password };
    const r = await fetch('/api/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }).catch(() => null);
    if (r && r.ok) {
      form.reset();
      dialog.close();
      onSuccess();
      return;
    }
    error.textContent = !r
      ? 'The box did not answer.'
      : r.status === 429
        ? 'Busy, try again in a moment.'
        : 'That did not work: check and try again.';
  };
  if (!dialog.open) dialog.showModal();
}

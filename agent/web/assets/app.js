/* global document, window, fetch, EventSource, localStorage, setTimeout, setInterval */
import { fill, h, setText } from './dom.js';
import { askLogin } from './login.js';
import * as panels from './panels.js';
import { safetyPanel } from './safety.js';
import { CameraTiles } from './tiles.js';
import { tryImagePanel } from './try-image.js';

// The page: one status fetch, then the live feed (/api/events, one `status` event a second). No reloads.

const $ = (id) => document.getElementById(id);
const tiles = new CameraTiles($('cameras'));
let lastStatusAt = 0;
let source = null;
let tryBuilt = false;

function render(status) {
  lastStatusAt = Date.now();
  // The tab says it in words too: a screen reader reads "▲" as a shape, and a tab strip shows the start.
  document.title = `${status.overall === 'ok' ? '● OK' : '▲ Attention'} · ${status.device} · Vigil status`;
  $('where').replaceChildren(h('b', {}, status.device), ` · site ${status.site}`);
  const overall = $('overall');
  overall.dataset.overall = status.overall;
  setText(overall, panels.overallText(status));
  fill($('kpis'), panels.kpis(status));
  tiles.update(status);
  for (const id of ['air', 'link', 'device', 'config', 'errors', 'footer']) fill($(id), panels[id](status));
  fill($('safety'), safetyPanel(status));
  if (!tryBuilt && status.models.length) {
    tryImagePanel($('try'), status.models);
    tryBuilt = true;
  }
}

function setConn(state) {
  const conn = $('conn');
  conn.dataset.conn = state;
  conn.textContent = state;
}

/** A page nobody sees (a background tab, a phone with its screen off) leaves the live feed. */
const unseen = () => document.visibilityState === 'hidden';

/**
 * Logged out (here, in another tab, or the session expired): the login banner, not "lost contact", and
 * nothing the box saw left on the screen (a tablet on site is shared).
 */
function loggedOut() {
  source?.close();
  source = null;
  lastStatusAt = 0;
  setConn('login');
  $('logout').hidden = true;
  $('where').textContent = 'Logged out';
  tiles.clear();
  for (const id of ['kpis', 'air', 'link', 'device', 'config', 'safety', 'errors', 'try', 'footer'])
    $(id).replaceChildren();
  tryBuilt = false;
  askLogin(start);
}

/** "Log out" is offered when the box asks for a login and this page has one (a session cookie). */
async function offerLogout() {
  const r = await fetch('/api/auth', { credentials: 'same-origin', cache: 'no-store' }).catch(() => null);
  const auth = r && r.ok ? await r.json().catch(() => null) : null;
  $('logout').hidden = !(auth?.required && auth.authenticated);
}

async function start() {
  if (unseen()) return; // visibilitychange starts it again
  const r = await fetch('/api/status', { credentials: 'same-origin', cache: 'no-store' }).catch(() => null);
  if (r && r.status === 401) {
    loggedOut();
    return;
  }
  if (!r || !r.ok) {
    setConn('lost');
    setTimeout(start, 3000);
    return;
  }
  render(await r.json());
  connect();
  offerLogout();
}

$('logout').addEventListener('click', async () => {
  await fetch('/api/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => null);
  loggedOut();
});

function connect() {
  source?.close();
  source = null;
  if (unseen()) return;
  source = new EventSource('/api/events');
  source.addEventListener('status', (e) => {
    setConn('live');
    render(JSON.parse(e.data));
  });
  source.addEventListener('snapshot', (e) => tiles.showSnapshot(JSON.parse(e.data)));
  source.addEventListener('error', () => {
    // A refused stream (401, 503) closes for good; a dropped one reconnects by itself.
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      source = null;
      setTimeout(start, 2000);
    }
    setConn('reconnecting');
  });
}

// While nobody sees the page, the box renders and sends nothing for it; seen again, it gets a fresh status
// at once and the latest pictures with the stream's first events.
document.addEventListener('visibilitychange', () => {
  if (unseen()) {
    source?.close();
    source = null;
    lastStatusAt = 0;
    setConn('paused');
  } else if (!source) {
    start();
  }
});

// Nothing heard for a while: say so, rather than show old numbers as if they were current.
setInterval(() => {
  if (lastStatusAt && Date.now() - lastStatusAt > 5000) {
    setConn('lost');
    const overall = $('overall');
    overall.dataset.overall = 'lost';
    setText(overall, 'Lost contact with the agent — retrying…');
  }
}, 1000);

const systemDark = window.matchMedia('(prefers-color-scheme: dark)');
const isDark = () =>
  document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === 'dark'
    : systemDark.matches;
// The toggle is a "Dark theme" switch, pressed while the page is dark (a screen reader reads "◐" as a shape).
function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  $('theme').setAttribute('aria-pressed', String(isDark()));
}
applyTheme(localStorage.getItem('vigil-theme'));
systemDark.addEventListener('change', () => applyTheme(localStorage.getItem('vigil-theme')));
$('theme').addEventListener('click', () => {
  const next = isDark() ? 'light' : 'dark';
  localStorage.setItem('vigil-theme', next);
  applyTheme(next);
});

start();

// The web page: the three files of public/, and the demo accounts it shows.
import { readFile } from 'node:fs/promises';

const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

// Answers GET/HEAD of the page's files; 404 for any other path.
export async function serveStatic(req, res, path) {
  const file = FILES[path];
  if (!file) return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
  }
  const body = await readFile(new URL(`public/${file[0]}`, import.meta.url));
  res.setHeader('Content-Security-Policy', "default-src 'self'; frame-ancestors 'none'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-cache');
  send(res, 200, file[1], req.method === 'HEAD' ? null : body);
}

// GET /demo-accounts.json: the accounts of DEMO_ACCOUNTS ([{email, password}]), which the page
// shows signed out; 404 when the app runs without demo accounts.
export function serveDemoAccounts(req, res, accounts) {
  if (accounts.length === 0) return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
  }
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const body = JSON.stringify(accounts.map(({ email, password }) => ({ email, password })));
  send(res, 200, 'application/json; charset=utf-8', req.method === 'HEAD' ? null : body);
}

function send(res, status, type, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.end(body ?? undefined);
}

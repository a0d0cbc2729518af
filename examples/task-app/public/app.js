// The page: signs in through Better Auth (/api/auth/*), takes a JWT from /api/auth/token and
// sends it with every GraphQL request to /graphql, where taskauth checks it.

const $ = (id) => document.getElementById(id);
let token = null; // the current JWT; kept in memory only

// A message meant for the user, shown in the alert region as it is.
class Shown extends Error {}

const TASK_FIELDS = 'id title description isCompleted';

// The message last shown and how many times in a row, and the form it is about (null: none).
let shown = { text: '', times: 0 };
let shownFor = null;

// Shows a message in the alert region (an error unless kind is 'info') about form; '' clears
// it. The same message again right after is counted, so that a repeated error visibly changes.
function say(text, kind = 'error', form = null) {
  if (text === '') {
    $('message').textContent = '';
    shownFor = null;
    return;
  }
  shown = { text, times: text === shown.text ? shown.times + 1 : 1 };
  shownFor = form;
  $('message').className = kind;
  $('message').textContent = shown.times > 1 ? `${text} (${shown.times} times in a row)` : text;
}

// A message goes stale once the user types in another form than the one it was about.
document.addEventListener('input', (e) => {
  const form = e.target.closest('form');
  if ($('message').textContent && form !== shownFor) say('');
});

// Calls a Better Auth endpoint; returns [status, parsed body or null, response headers].
async function authCall(path, body) {
  const r = await fetch(`/api/auth/${path}`, body === undefined
    ? { credentials: 'same-origin' }
    : { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body) });
  const text = await r.text();
  return [r.status, text ? JSON.parse(text) : null, r.headers];
}

// A JWT for the current Better Auth session, or null when there is no session.
async function fetchToken() {
  const [status, body] = await authCall('token');
  if (status === 401) return null;
  if (status !== 200) throw new Shown(`Could not get a token (HTTP ${status}).`);
  return body.token;
}

// Runs a GraphQL operation with the current token. A 401 means the token expired or its key
// was retired: take a new one from the session once; without a session, sign out.
async function graphql(query, variables = {}, retry = true) {
  const r = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  if (r.status === 401) {
    token = retry ? await fetchToken() : null;
    if (token) return graphql(query, variables, false);
    showSignedOut();
    throw new Shown('Your session has expired. Please sign in again.');
  }
  const body = await r.json();
  if (body.errors?.length) throw refusal(body.errors[0]);
  return body.data;
}

// The user's message for a GraphQL error.
function refusal(error) {
  if (error.errcode === '42501')
    return new Shown('The request was refused: you can only change your own tasks.');
  if (error.errcode === '23514')
    return new Shown('The request was refused: a task needs a title.');
  if (/no values (you can update|you can delete)|were found matching/i.test(error.message))
    return new Shown('The request was refused: that task does not exist or is not yours.');
  return new Shown(`The request was refused: ${error.message}`);
}

// Runs fn for a form or button (form: the form it is about); shows what went wrong instead of
// throwing. The message region is empty while it runs.
async function act(fn, form = null) {
  say('');
  const before = shown;
  try {
    await fn();
    if (shown === before) shown = { text: '', times: 0 }; // it went well: no repeat to count
  } catch (e) {
    say(e instanceof Shown ? e.message : 'Something went wrong; please try again.', 'error', form);
    if (!(e instanceof Shown)) console.error(e);
  }
}

function showSignedOut() {
  token = null;
  $('account').hidden = true;
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  $('tasks').replaceChildren();
}

// The demo accounts, when the app runs with them (make serve): each with a button that fills
// the sign-in form in.
async function showDemoAccounts() {
  const r = await fetch('/demo-accounts.json');
  if (r.status !== 200) return;
  const items = (await r.json()).map(({ email, password }) => {
    const li = document.createElement('li');
    const text = Object.assign(document.createElement('span'), { textContent: `${email} / ${password}` });
    const use = button('Use', `Use ${email}`, () => {
      const form = $('sign-in');
      form.elements.email.value = email;
      form.elements.password.value = password;
      form.querySelector('button[type="submit"]').focus();
    });
    li.append(text, use);
    return li;
  });
  $('demo-account-list').replaceChildren(...items);
  $('demo-accounts').hidden = items.length === 0;
}

async function showSignedIn() {
  const [, session] = await authCall('get-session');
  $('account-email').textContent = session?.user?.email ?? '';
  $('account').hidden = false;
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  await loadTasks();
}

async function loadTasks() {
  const data = await graphql(`{ allTasks(orderBy: CREATED_AT_ASC) { nodes { ${TASK_FIELDS} } } }`);
  renderTasks(data.allTasks.nodes);
}

function renderTasks(tasks) {
  $('no-tasks').hidden = tasks.length > 0;
  $('tasks').replaceChildren(...tasks.map(taskItem));
}

// One task: a checkbox named by the title, its description, Edit and Delete buttons.
function taskItem(task) {
  const li = document.createElement('li');
  li.className = task.isCompleted ? 'done' : '';
  const box = Object.assign(document.createElement('input'),
    { type: 'checkbox', id: `done-${task.id}`, checked: task.isCompleted });
  const label = Object.assign(document.createElement('label'), { htmlFor: box.id, textContent: task.title });
  box.addEventListener('change', () => act(async () => {
    await graphql(`mutation ($id: UUID!, $done: Boolean!) {
      updateTaskById(input: {id: $id, taskPatch: {isCompleted: $done}}) { task { id } } }`,
    { id: task.id, done: box.checked });
    await loadTasks();
  }));
  const edit = button('Edit', `Edit ${task.title}`, () => li.replaceChildren(editForm(task)));
  const del = button('Delete', `Delete ${task.title}`, () => li.replaceChildren(confirmDelete(task)));
  li.append(box, label, edit, del);
  if (task.description) {
    li.append(Object.assign(document.createElement('p'), { className: 'description', textContent: task.description }));
  }
  return li;
}

// Asks before a task is deleted: a deletion cannot be undone.
function confirmDelete(task) {
  const group = document.createElement('div');
  group.className = 'confirm';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', `Delete ${task.title}?`);
  const question = Object.assign(document.createElement('p'), { textContent: `Delete “${task.title}”? This cannot be undone.` });
  const yes = button('Yes, delete', `Yes, delete ${task.title}`, () => act(async () => {
    await graphql(`mutation ($id: UUID!) { deleteTaskById(input: {id: $id}) { deletedTaskId } }`,
      { id: task.id });
    await loadTasks();
    say(`Deleted “${task.title}”.`, 'info');
  }));
  yes.className = 'danger';
  const keep = button('Keep', `Keep ${task.title}`, () => act(loadTasks));
  group.append(question, yes, keep);
  queueMicrotask(() => keep.focus());
  return group;
}

function button(text, name, onClick) {
  const b = Object.assign(document.createElement('button'), { type: 'button', textContent: text });
  b.setAttribute('aria-label', name);
  b.addEventListener('click', onClick);
  return b;
}

// The inline form that edits a task's title and description.
function editForm(task) {
  const form = document.createElement('form');
  form.setAttribute('aria-label', `Edit ${task.title}`);
  const field = (name, text, value, tag) => {
    const input = Object.assign(document.createElement(tag),
      { id: `${name}-${task.id}`, name, value: value ?? '' });
    const label = Object.assign(document.createElement('label'), { htmlFor: input.id, textContent: text });
    return [label, input];
  };
  const [titleLabel, title] = field('title', 'Title', task.title, 'input');
  title.required = true;
  const [descLabel, desc] = field('description', 'Description', task.description, 'textarea');
  const save = Object.assign(document.createElement('button'), { type: 'submit', textContent: 'Save' });
  const cancel = button('Cancel', 'Cancel', () => act(loadTasks));
  form.append(titleLabel, title, descLabel, desc, save, cancel);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(async () => {
      await graphql(`mutation ($id: UUID!, $title: String!, $description: String) {
        updateTaskById(input: {id: $id, taskPatch: {title: $title, description: $description}}) { task { id } } }`,
      { id: task.id, title: title.value, description: desc.value || null });
      await loadTasks();
    }, form);
  });
  queueMicrotask(() => title.focus());
  return form;
}

// Signs in or up through Better Auth, then takes a token from the new session.
async function startSession(path, form) {
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  const body = path === 'sign-up/email' ? { email, password, name: email.split('@')[0] } : { email, password };
  const [status, reply, headers] = await authCall(path, body);
  if (status === 401) throw new Shown('Wrong email or password.');
  if (status === 429) {
    const seconds = Number.parseInt(headers.get('x-retry-after') ?? '', 10);
    throw new Shown(seconds > 0 ? `Too many attempts; please try again in ${seconds} seconds.`
      : 'Too many attempts; please wait a minute and try again.');
  }
  if (status !== 200)
    throw new Shown(reply?.message ? reply.message.replace(/([^.!?])$/, '$1.') : `Request failed (HTTP ${status}).`);
  token = await fetchToken();
  if (!token) throw new Shown('Signed in, but no token was issued; please try again.');
  form.reset();
  await showSignedIn();
}

$('sign-in').addEventListener('submit', (e) => {
  e.preventDefault();
  act(() => startSession('sign-in/email', e.target), e.target);
});
$('sign-up').addEventListener('submit', (e) => {
  e.preventDefault();
  act(() => startSession('sign-up/email', e.target), e.target);
});
$('sign-out').addEventListener('click', () => act(async () => {
  await authCall('sign-out', {});
  showSignedOut();
  say('You are signed out.', 'info');
}));
$('add-task').addEventListener('submit', (e) => {
  e.preventDefault();
  const form = e.target;
  act(async () => {
    await graphql(`mutation ($title: String!, $description: String) {
      createTask(input: {task: {title: $title, description: $description}}) { task { id } } }`,
    { title: form.elements.title.value, description: form.elements.description.value || null });
    form.reset();
    await loadTasks();
  }, form);
});

// On load: a Better Auth session cookie means signed in.
act(async () => {
  token = await fetchToken();
  if (token) await showSignedIn();
  else showSignedOut();
});
showDemoAccounts().catch((e) => console.error(e));

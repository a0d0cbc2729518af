// The tasks page, a server component: rendered for each request as the signed-in user.
import { headers } from 'next/headers';
import { auth } from '../lib/auth.js';
import { listTasks } from '../lib/tasks.js';
import { addTask, completeTask, removeTask } from './actions.js';
import { AuthForms, SignOutButton } from './auth-forms.js';

export default async function TasksPage() {
  const session = await auth.api.getSession({ headers: await headers() });
  // null when the session ended after getSession: nobody is signed in any more
  const tasks = session && await listTasks();
  if (!tasks) return <main><h1>Tasks</h1><AuthForms /></main>;
  return (
    <main>
      <header>
        <h1>Your tasks</h1>
        <p>Signed in as {session.user.email} <SignOutButton /></p>
      </header>
      <form action={addTask} aria-label="New task">
        <label>Title <input name="title" required /></label>
        <label>Description <input name="description" /></label>
        <button>Add task</button>
      </form>
      {tasks.length === 0 && <p>No tasks yet.</p>}
      <ul aria-label="Your tasks">
        {tasks.map((t) => (
          <li key={t.id}>
            <span className="title">
              <span className={t.is_completed ? 'done' : undefined}>{t.title}</span>
              {t.is_completed && ' (done)'}
              {t.description && <small>{t.description}</small>}
            </span>
            <form action={completeTask.bind(null, t.id, !t.is_completed)}>
              <button aria-label={`${t.is_completed ? 'Reopen' : 'Complete'} ${t.title}`}>
                {t.is_completed ? 'Reopen' : 'Complete'}
              </button>
            </form>
            <form action={removeTask.bind(null, t.id)}>
              <button aria-label={`Delete ${t.title}`}>Delete</button>
            </form>
          </li>
        ))}
      </ul>
    </main>
  );
}

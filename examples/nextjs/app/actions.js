'use server';
// The page's writes, as server actions. Each runs as the signed-in user (lib/tasks.js); an id
// sent by the client is never trusted on its own: row-level security ignores other users' tasks.
import { revalidatePath } from 'next/cache';
import { createTask, deleteTask, setCompleted } from '../lib/tasks.js';

export async function addTask(formData) {
  const title = String(formData.get('title') ?? '').trim();
  const description = String(formData.get('description') ?? '').trim();
  if (title === '') return;
  await createTask(title, description || null);
  revalidatePath('/');
}

export async function completeTask(id, isCompleted) {
  await setCompleted(id, isCompleted);
  revalidatePath('/');
}

export async function removeTask(id) {
  await deleteTask(id);
  revalidatePath('/');
}

'use client';
// Sign-up, sign-in and sign-out in the browser, through Better Auth's client. After each, the
// page is rendered again on the server (router.refresh), with the new session or none.
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { authClient } from '../lib/auth-client.js';

export function AuthForms() {
  const router = useRouter();
  const [error, setError] = useState(null);
  const submit = (signUp) => async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email'));
    const password = String(form.get('password'));
    const { error } = signUp
      ? await authClient.signUp.email({ email, password, name: email.split('@')[0] })
      : await authClient.signIn.email({ email, password });
    setError(error ? error.message ?? error.statusText : null);
    if (!error) router.refresh();
  };
  return (
    <>
      {error && <p role="alert">{error}</p>}
      <AccountForm title="Sign in" onSubmit={submit(false)} autoComplete="current-password" />
      <AccountForm title="Create an account" button="Sign up" onSubmit={submit(true)} autoComplete="new-password" />
    </>
  );
}

function AccountForm({ title, button = title, onSubmit, autoComplete }) {
  return (
    <section>
      <h2>{title}</h2>
      <form aria-label={title} onSubmit={onSubmit}>
        <label>Email <input name="email" type="email" autoComplete="email" required /></label>
        <label>Password <input name="password" type="password" minLength={8} autoComplete={autoComplete} required /></label>
        <button>{button}</button>
      </form>
    </section>
  );
}

export function SignOutButton() {
  const router = useRouter();
  return (
    <button onClick={async () => { await authClient.signOut(); router.refresh(); }}>Sign out</button>
  );
}

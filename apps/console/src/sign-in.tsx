import { type FormEvent, useState } from 'react';
import { AdminApi, ApiError } from './admin-api';

/** Asks for the admin token and checks it against the admin API before the console opens; the token is never stored. */
export function SignIn({ notice, onSignedIn }: { notice?: string; onSignedIn(token: string): void }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string>();
  const [checking, setChecking] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const given = token.trim();
    if (given === '') return setProblem('enter the admin token');
    setChecking(true);
    try {
      await new AdminApi(given).stats();
      setToken('');
      onSignedIn(given);
    } catch (error) {
      const failure = error as ApiError;
      setProblem(
        failure.status === 401
          ? 'this is not the admin token'
          : failure.status === 404
            ? 'the admin API is disabled on this gateway (NODE_ENV=production without ADMIN_TOKEN)'
            : failure.message,
      );
    } finally {
      setChecking(false);
    }
  }

  return (
    <main className="sign-in">
      <form onSubmit={(event) => void submit(event)} aria-label="Sign in">
        <h1>Push gateway console</h1>
        <p className="hint">
          The admin token is <code>ADMIN_TOKEN</code>, or the one <code>npm start</code> printed. It stays in this page’s memory only: a reload asks again.
        </p>
        <label>
          Admin token
          <input type="password" autoComplete="off" spellCheck={false} value={token} onChange={(event) => setToken(event.target.value)} autoFocus />
        </label>
        <button type="submit" disabled={checking}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
        {(problem ?? notice) && (
          <p role="alert" className={problem ? 'problem' : 'hint'}>
            {problem ?? notice}
          </p>
        )}
      </form>
    </main>
  );
}

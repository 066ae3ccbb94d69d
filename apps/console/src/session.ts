import { createContext, useContext, useEffect, useRef, useState } from 'react';
import { AdminApi, ApiError } from './admin-api';

/** The signed-in console: the admin API with the token, and how to end the session. */
export interface Session {
  readonly api: AdminApi;
  /** Back to the sign-in form, saying why (the token was refused, the admin API went away). */
  signOut(reason?: string): void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error('useSession outside a signed-in console');
  return session;
}

export interface Polled<T> {
  readonly value: T | undefined;
  readonly error: ApiError | undefined;
  /** Reads again now (after an operation changed what is shown). */
  refresh(): void;
}

/**
 * Reads `read` now and every `everyMs` while the component is shown; a 401
 * ends the session (the token was changed or is wrong).
 */
export function usePoll<T>(read: (api: AdminApi) => Promise<T>, everyMs: number, key = ''): Polled<T> {
  const { api, signOut } = useSession();
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [round, setRound] = useState(0);
  const reader = useRef(read);
  reader.current = read;

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await reader.current(api);
        if (!live) return;
        setValue(next);
        setError(undefined);
      } catch (caught) {
        if (!live) return;
        const failure = caught instanceof ApiError ? caught : new ApiError(0, 'error', (caught as Error).message);
        if (failure.status === 401) return signOut('the admin token was refused: sign in again');
        setError(failure);
      }
      if (live) timer = setTimeout(() => void tick(), everyMs);
    };
    void tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, signOut, everyMs, key, round]);

  return { value, error, refresh: () => setRound((n) => n + 1) };
}

/** "3 s ago", "5 min ago" from an ISO time, for tables that refresh. */
export function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

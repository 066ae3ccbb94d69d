import type { ApiError } from '../admin-api';

/** A read that failed, said plainly where its data would be. */
export function Problem({ error }: { error: ApiError | undefined }) {
  if (error === undefined) return null;
  return (
    <p role="alert" className="problem">
      {error.status === 503 ? 'The gateway is unavailable: ' : ''}
      {error.message}
    </p>
  );
}

/**
 * Polls `check` until it holds, failing after `timeoutMs`; `what` names the
 * condition in the failure.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 50, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The innermost failure of a chain (child workflow → activity → the typed failure), as a type and a message. */
export function rootFailure(err: unknown): { type: string; message: string } {
  let cause: unknown = err;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  const failure = cause as { type?: string; message?: string };
  return { type: failure.type ?? (cause instanceof Error ? cause.name : 'Error'), message: failure.message ?? String(cause) };
}

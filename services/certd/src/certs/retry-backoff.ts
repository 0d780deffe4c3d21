export interface RetryPolicy {
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

/**
 * Delay before the next automatic attempt after `failures` consecutive failures: retryMinMs,
 * doubling per failure, capped at retryMaxMs. Keeps a failing host well inside the CA's rate
 * limits (Let's Encrypt allows 5 failed validations per host per hour) with the defaults.
 */
export function retryDelayMs(failures: number, policy: RetryPolicy): number {
  if (failures <= 0) return 0;
  const exponent = Math.min(failures - 1, 40);
  return Math.min(policy.retryMinMs * 2 ** exponent, policy.retryMaxMs);
}

/**
 * Keeps a message hidden while its work goes on: every half visibility timeout, the timeout is
 * set again to its full length, so a long file is never handed to a second consumer meanwhile.
 */
export class Heartbeat {
  private readonly timer: NodeJS.Timeout;
  /** The beat waiting for its answer, if any. */
  private beating: Promise<void> | undefined;
  private stopped = false;

  /**
   * @param timeoutSeconds the message's visibility timeout (> 0)
   * @param extend sets the visibility timeout to `timeoutSeconds` from now
   * @param onFailure a beat failed; the next one tries again
   */
  constructor(
    timeoutSeconds: number,
    private readonly extend: (seconds: number) => Promise<void>,
    private readonly onFailure: (error: unknown, beat: number) => void,
  ) {
    let beat = 0;
    this.timer = setInterval(
      () => {
        // While a beat waits for its answer, ticks are skipped: beats never queue up.
        if (this.stopped || this.beating) return;
        beat += 1;
        const current = beat;
        this.beating = this.extend(timeoutSeconds)
          .catch((error) => this.onFailure(error, current))
          .finally(() => {
            this.beating = undefined;
          });
      },
      (timeoutSeconds * 1000) / 2,
    );
    // The work it guards keeps the process alive, not the heartbeat.
    this.timer.unref();
  }

  /**
   * No more beats. Resolves once a beat in progress has its answer, so a visibility change made
   * after this (delete, give back) is not overwritten by a late extension — or after `maxWaitMs`,
   * for a shutdown that must not wait on a hung request (a late extension then only delays the
   * message's return, it loses nothing).
   */
  async stop(maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (!this.beating) return;
    if (!Number.isFinite(maxWaitMs)) return this.beating;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
    });
    await Promise.race([this.beating, waited]);
    clearTimeout(timer);
  }
}

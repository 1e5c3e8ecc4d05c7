/**
 * The sends a sender has started and not yet settled, so that `idle()` and `close()` can
 * wait for them (every `SpanListSender` needs this).
 */
export class SendsInFlight {
  private readonly pending = new Set<Promise<void>>();

  /** Tracks `sending` until it settles; returns it. */
  track(sending: Promise<void>): Promise<void> {
    const tracked = sending.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    return tracked;
  }

  /** Resolves once every tracked send has settled, whatever its outcome. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

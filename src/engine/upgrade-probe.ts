import type { DecodedPacket } from "./packet";
import type { Transport, TransportSink } from "./transport";

/** The session a probe reports to. */
export interface ProbeOwner {
  onProbePacket(probe: UpgradeProbe, packet: DecodedPacket): void;
  /** The probe's transport failed or closed before the upgrade completed. */
  onProbeGone(probe: UpgradeProbe): void;
  onProbeTimeout(probe: UpgradeProbe): void;
}

/**
 * An upgrade in progress: the WebSocket that sent (or will send) the probe. Until the
 * upgrade completes or fails, that transport reports to the probe, not to the session,
 * and the session's own transport keeps carrying its packets.
 */
export class UpgradeProbe implements TransportSink {
  /** The probe was answered: polling GETs are released with a noop so the client can pause. */
  probed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly owner: ProbeOwner,
    readonly transport: Transport,
    timeout: number,
  ) {
    this.timer = setTimeout(onTimeout, timeout, this);
    transport.sink = this;
  }

  /** Stops the timer and lets go of the transport, which stays open. */
  end(): void {
    clearTimeout(this.timer);
    if (this.transport.sink === this) this.transport.sink = undefined;
  }

  onTransportPacket(packet: DecodedPacket): void {
    this.owner.onProbePacket(this, packet);
  }

  // A transport being probed does not write for the session yet: readiness is not news.
  onTransportReady(): void {}

  onTransportDrain(): void {}

  onTransportError(): void {
    this.owner.onProbeGone(this);
  }

  onTransportClose(): void {
    this.owner.onProbeGone(this);
  }

  /** @internal */
  timedOut(): void {
    this.owner.onProbeTimeout(this);
  }
}

function onTimeout(probe: UpgradeProbe): void {
  probe.timedOut();
}

/**
 * A probed WebSocket whose session closed before the client switched to it. The client has
 * already paused polling (its poll was released for the upgrade), so it would hear of the
 * close nowhere: engine.io-client takes a probe that closes for a failed upgrade and stays
 * paused. Closing the WebSocket once the client has switched to it (its upgrade packet)
 * ends the client's session instead. Bounded by the upgrade timeout.
 */
export class ClosedSessionProbe implements TransportSink {
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly transport: Transport,
    timeout: number,
  ) {
    transport.sink = this;
    this.timer = setTimeout(closeProbe, timeout, this);
    this.timer.unref();
  }

  onTransportPacket(packet: DecodedPacket): void {
    if (packet.type === "upgrade") this.close();
  }

  onTransportReady(): void {}

  onTransportDrain(): void {}

  onTransportError(): void {
    this.close();
  }

  onTransportClose(): void {
    clearTimeout(this.timer);
    this.transport.sink = undefined;
  }

  /** @internal */
  close(): void {
    clearTimeout(this.timer);
    this.transport.sink = undefined;
    this.transport.close();
  }
}

function closeProbe(probe: ClosedSessionProbe): void {
  probe.close();
}

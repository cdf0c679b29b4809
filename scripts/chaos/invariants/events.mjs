// Events: every outbox row (every service's database) published; nothing in the dead-letter table but the injected
// poison, and all of it there. (One points award per CONFIRMED order, loyalty's reaction to order.confirmed, is the
// orders invariant's.)
export default {
  name: 'events',
  check({ databases, outbox, deadLetters, poison }, v, summary) {
    summary.events = { outbox: {}, poison: poison.length };
    for (const db of databases) {
      const row = outbox[db];
      summary.events.outbox[db] = { rows: Number(row.n), unpublished: Number(row.unpublished ?? 0) };
      if (Number(row.unpublished ?? 0) > 0) v('outbox-unpublished', { db, unpublished: Number(row.unpublished) });
    }
    summary.events.deadLetters = deadLetters.length;
    const injected = new Set(poison);
    for (const d of deadLetters) if (!injected.has(d.event_id)) v('unexpected-dead-letter', { consumer: d.consumer, eventId: d.event_id, error: d.error });
    const deadIds = new Set(deadLetters.map((d) => d.event_id));
    for (const id of poison) if (!deadIds.has(id)) v('poison-not-dead-lettered', { eventId: id });
  },
};

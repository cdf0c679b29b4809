// The outbox's head rows: one per aggregate with recent events, the lock that keeps its events in commit order
// (see platform/outbox.ts).
export { outboxHeadsTables as tables, upOutboxHeads as up, downOutboxHeads as down } from '../../../platform/outbox';

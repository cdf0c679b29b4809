// Search attributes every flow sets (typed keys for workflows and the client). A flow's own attributes (TransferId,
// OrderId, …) live in its contract; the flows registry collects them all for the namespace.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const FlowStatusKey = defineSearchAttributeKey('FlowStatus', SearchAttributeType.KEYWORD);
/**
 * Registered on the namespace (deployments that searched by it keep the attribute) but set by no flow any more: search
 * attributes are stored and indexed in plain text for operators to search, so they carry flow and resource ids and
 * statuses only — no customer or account ids, no amounts (those travel encrypted: src/platform/codec).
 */
export const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);

/** Search attribute names and their types, as the Temporal CLI takes them (`--search-attribute Name=Keyword`). */
export type SearchAttributeTypes = Record<string, 'Keyword' | 'KeywordList' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime'>;

export const commonSearchAttributes: SearchAttributeTypes = { FlowStatus: 'Keyword', CustomerId: 'Keyword' };

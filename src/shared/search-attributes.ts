// Typed search-attribute keys for workflows (upsert) and the client (start, list queries).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TransferIdKey = defineSearchAttributeKey('TransferId', SearchAttributeType.KEYWORD);
export const OrderIdKey = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const FlowStatusKey = defineSearchAttributeKey('FlowStatus', SearchAttributeType.KEYWORD);

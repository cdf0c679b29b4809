// Every workflow the worker runs (the worker's bundle entry point).
export { transferMoney } from './transfer';
export { checkoutOrder } from './checkout';

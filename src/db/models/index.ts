// Registers every model on a Sequelize instance and wires their associations.
import type { Sequelize } from 'sequelize';
import { Account } from './account';
import { LedgerEntry } from './ledger-entry';
import { Order, OrderItem } from './order';
import { PointsEntry } from './points-entry';
import { Product } from './product';
import { Transfer } from './transfer';

export { Account, LedgerEntry, Order, OrderItem, PointsEntry, Product, Transfer };

export function initModels(sequelize: Sequelize): void {
  for (const model of [Account, LedgerEntry, Transfer, Product, Order, OrderItem, PointsEntry]) model.initModel(sequelize);
  Order.hasMany(OrderItem, { as: 'items', foreignKey: 'orderId', sourceKey: 'id' });
  OrderItem.belongsTo(Order, { foreignKey: 'orderId', targetKey: 'id' });
}

// An order and its lines (OrderItem), written by the checkout flow; the API loads both in one eager query.
import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type NonAttribute,
  type Sequelize,
} from 'sequelize';

export class OrderItem extends Model<InferAttributes<OrderItem>, InferCreationAttributes<OrderItem>> {
  declare id: CreationOptional<number>;
  declare orderId: string;
  declare lineNo: number;
  declare sku: string;
  declare quantity: number;
  declare price: number;

  static initModel(sequelize: Sequelize) {
    OrderItem.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        orderId: { type: DataTypes.STRING(64), allowNull: false },
        lineNo: { type: DataTypes.INTEGER, allowNull: false },
        sku: { type: DataTypes.STRING(64), allowNull: false },
        quantity: { type: DataTypes.INTEGER, allowNull: false },
        price: { type: DataTypes.BIGINT, allowNull: false },
      },
      { sequelize, tableName: 'order_items', timestamps: false },
    );
  }
}

export class Order extends Model<InferAttributes<Order>, InferCreationAttributes<Order>> {
  declare id: string;
  declare customerId: string;
  declare paymentAccountId: string;
  declare total: number;
  declare currency: string;
  declare status: string;
  declare reasonCode: CreationOptional<string | null>;
  declare reason: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
  declare items?: NonAttribute<OrderItem[]>;

  static initModel(sequelize: Sequelize) {
    Order.init(
      {
        id: { type: DataTypes.STRING(64), primaryKey: true },
        customerId: { type: DataTypes.STRING(64), allowNull: false },
        paymentAccountId: { type: DataTypes.STRING(64), allowNull: false },
        total: { type: DataTypes.BIGINT, allowNull: false },
        currency: { type: DataTypes.CHAR(3), allowNull: false },
        status: { type: DataTypes.STRING(24), allowNull: false },
        reasonCode: { type: DataTypes.STRING(64), allowNull: true },
        reason: { type: DataTypes.STRING(512), allowNull: true },
        createdAt: DataTypes.DATE(3),
        updatedAt: DataTypes.DATE(3),
      },
      { sequelize, tableName: 'orders' },
    );
  }
}

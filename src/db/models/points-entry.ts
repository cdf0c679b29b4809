// Loyalty points awarded once per confirmed order; a customer's balance is the sum of their entries.
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class PointsEntry extends Model<InferAttributes<PointsEntry>, InferCreationAttributes<PointsEntry>> {
  declare id: CreationOptional<number>;
  declare customerId: string;
  declare orderId: string;
  declare points: number;
  declare createdAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize) {
    PointsEntry.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        customerId: { type: DataTypes.STRING(64), allowNull: false },
        orderId: { type: DataTypes.STRING(64), allowNull: false },
        points: { type: DataTypes.BIGINT, allowNull: false },
        createdAt: DataTypes.DATE(3),
      },
      { sequelize, tableName: 'points_entries', updatedAt: false },
    );
  }
}

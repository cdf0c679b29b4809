// The durable record of a transfer flow; written by the flow's own steps, read by the API.
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class Transfer extends Model<InferAttributes<Transfer>, InferCreationAttributes<Transfer>> {
  declare id: string;
  declare fromAccountId: string;
  declare toAccountId: string;
  declare amount: number;
  declare currency: string;
  declare memo: string | null;
  declare status: string;
  declare reasonCode: CreationOptional<string | null>;
  declare reason: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize) {
    Transfer.init(
      {
        id: { type: DataTypes.STRING(64), primaryKey: true },
        fromAccountId: { type: DataTypes.STRING(64), allowNull: false },
        toAccountId: { type: DataTypes.STRING(64), allowNull: false },
        amount: { type: DataTypes.BIGINT, allowNull: false },
        currency: { type: DataTypes.CHAR(3), allowNull: false },
        memo: { type: DataTypes.STRING(256), allowNull: true },
        status: { type: DataTypes.STRING(16), allowNull: false },
        reasonCode: { type: DataTypes.STRING(64), allowNull: true },
        reason: { type: DataTypes.STRING(512), allowNull: true },
        createdAt: DataTypes.DATE(3),
        updatedAt: DataTypes.DATE(3),
      },
      { sequelize, tableName: 'transfers' },
    );
  }
}

// An account holding money in one currency: `balance` is spendable, `frozen` is held by TCC payment tries.
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class Account extends Model<InferAttributes<Account>, InferCreationAttributes<Account>> {
  declare id: string;
  declare owner: string;
  declare currency: string;
  declare balance: CreationOptional<number>;
  declare frozen: CreationOptional<number>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize) {
    Account.init(
      {
        id: { type: DataTypes.STRING(64), primaryKey: true },
        owner: { type: DataTypes.STRING(128), allowNull: false },
        currency: { type: DataTypes.CHAR(3), allowNull: false },
        balance: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
        frozen: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
        createdAt: DataTypes.DATE(3),
        updatedAt: DataTypes.DATE(3),
      },
      { sequelize, tableName: 'accounts' },
    );
  }
}

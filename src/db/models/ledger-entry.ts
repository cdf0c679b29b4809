// One signed money movement on one account, written by the step that moved it; (flow, step, account) is unique.
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class LedgerEntry extends Model<InferAttributes<LedgerEntry>, InferCreationAttributes<LedgerEntry>> {
  declare id: CreationOptional<number>;
  declare accountId: string;
  declare flowId: string;
  declare step: string;
  declare amount: number;
  declare kind: string;
  declare createdAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize) {
    LedgerEntry.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        accountId: { type: DataTypes.STRING(64), allowNull: false },
        flowId: { type: DataTypes.STRING(128), allowNull: false },
        step: { type: DataTypes.STRING(64), allowNull: false },
        amount: { type: DataTypes.BIGINT, allowNull: false },
        kind: { type: DataTypes.STRING(16), allowNull: false },
        createdAt: DataTypes.DATE(3),
      },
      { sequelize, tableName: 'ledger_entries', updatedAt: false },
    );
  }
}

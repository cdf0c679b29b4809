// Thin helpers over raw SQL for the hot paths: conditional updates whose affected-row count is the answer.
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

/** Runs a write statement and returns the number of rows it changed (inserted, updated or deleted). */
export async function exec(db: Sequelize, sql: string, replacements: unknown[], transaction?: Transaction): Promise<number> {
  const [result, meta] = await db.query(sql, { replacements, transaction, type: QueryTypes.RAW });
  // Sequelize answers a statement starting with `INSERT INTO` as [insertId, affectedRows] even for a RAW query, and
  // every other statement as [header, header].
  if (typeof result !== 'object' || result === null) return Number(meta ?? 0);
  return Number((result as { affectedRows?: number }).affectedRows ?? 0);
}

export async function select<T extends object>(
  db: Sequelize,
  sql: string,
  replacements: unknown[],
  transaction?: Transaction,
): Promise<T[]> {
  return db.query<T>(sql, { replacements, transaction, type: QueryTypes.SELECT });
}

/** Deletes matching rows in bounded batches (short locks), returning how many went. */
export async function deleteInBatches(db: Sequelize, table: string, where: string, replacements: unknown[], batch = 1000) {
  let total = 0;
  for (;;) {
    const n = await exec(db, `DELETE FROM ${table} WHERE ${where} LIMIT ${batch}`, replacements);
    total += n;
    if (n < batch) return total;
  }
}

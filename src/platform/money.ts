// Formats integer minor units for people (summaries in the Temporal UI, logs): 2500 USD → "25.00 USD", 2500 JPY →
// "2500 JPY", 2500 BHD → "2.500 BHD". Exponents from ISO 4217; codes not listed have 2. Exact: no floating point.
const exponents: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

export function currencyExponent(currency: string): number {
  return exponents[currency] ?? 2;
}

export function money(amount: number | bigint, currency: string): string {
  const minor = BigInt(amount);
  const sign = minor < 0n ? '-' : '';
  const abs = minor < 0n ? -minor : minor;
  const exp = currencyExponent(currency);
  if (exp === 0) return `${sign}${abs} ${currency}`;
  const unit = 10n ** BigInt(exp);
  return `${sign}${abs / unit}.${String(abs % unit).padStart(exp, '0')} ${currency}`;
}

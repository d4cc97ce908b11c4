/**
 * What harbor-helm gives core's pod for its database (shared/harbor-facts.md §4, §6): DATABASE_TYPE and the
 * POSTGRESQL_* keys of ConfigMap <fullname>-core, and POSTGRESQL_PASSWORD from Secret <fullname>-core. The
 * chart's internal database by default (harbor-database:5432, user postgres); tests point it at their own server.
 */
export function chartDatabaseEnv(
  password: string,
  o: { readonly host?: string; readonly port?: number; readonly user?: string } = {},
): Record<string, string> {
  return {
    DATABASE_TYPE: 'postgresql',
    POSTGRESQL_HOST: o.host ?? 'harbor-database',
    POSTGRESQL_PORT: String(o.port ?? 5432),
    POSTGRESQL_USERNAME: o.user ?? 'postgres',
    POSTGRESQL_DATABASE: 'registry',
    POSTGRESQL_SSLMODE: 'disable',
    POSTGRESQL_MAX_IDLE_CONNS: '100',
    POSTGRESQL_MAX_OPEN_CONNS: '900',
    POSTGRESQL_PASSWORD: password,
  };
}

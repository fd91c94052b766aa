/**
 * Typed errors of the manager's store. Callers (actors, routes) branch on the
 * class, never on the message text, and map each to an API problem type.
 *
 * @module
 */

/** Base class: every error the store raises on purpose extends it. */
export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The embedded Postgres could not be installed, initialised or started. */
export class EmbeddedPostgresError extends StoreError {
  /** The last lines Postgres wrote to its log, for the operator. */
  readonly logTail: string;
  constructor(message: string, logTail = "", options?: ErrorOptions) {
    super(
      logTail ? `${message}\n--- postgres log ---\n${logTail}` : message,
      options,
    );
    this.logTail = logTail;
  }
}

/** Another live postmaster owns the cluster directory. */
export class ClusterInUseError extends EmbeddedPostgresError {
  constructor(readonly clusterDir: string, readonly pid: number) {
    super(
      `Postgres cluster ${clusterDir} is in use by a running postmaster (pid ${pid}); ` +
        "stop the other manager or use another data dir.",
    );
  }
}

/** Base class of migration failures: the manager must not start on these. */
export class MigrationError extends StoreError {}

/** The database carries migrations newer than this code knows. */
export class SchemaTooNewError extends MigrationError {
  constructor(readonly databaseVersion: number, readonly codeVersion: number) {
    super(
      `Database schema version ${databaseVersion} is newer than this manager knows ` +
        `(latest migration ${codeVersion}); upgrade the manager or point it at another database.`,
    );
  }
}

/** An applied migration differs from the file of the same version now. */
export class MigrationChecksumError extends MigrationError {
  constructor(
    readonly version: number,
    readonly migrationName: string,
    readonly applied: string,
    readonly current: string,
  ) {
    super(
      `Migration ${version} (${migrationName}) was changed after it was applied ` +
        `(checksum ${applied.slice(0, 12)} in the database, ${
          current.slice(0, 12)
        } on disk); ` +
        "write a new migration instead of editing an applied one.",
    );
  }
}

/** An applied migration version has no file (and is not newer than the latest). */
export class MigrationMissingError extends MigrationError {
  constructor(readonly version: number, readonly migrationName: string) {
    super(
      `Migration ${version} (${migrationName}) is recorded in the database but has no file.`,
    );
  }
}

/** A row that was asked for by key does not exist. */
export class NotFoundError extends StoreError {
  constructor(readonly entity: string, readonly key: string) {
    super(`No such ${entity}: ${key}`);
  }
}

/** A session status change not in the allowed-transition table. */
export class IllegalTransitionError extends StoreError {
  constructor(
    readonly sessionId: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`Session ${sessionId} cannot go from ${from} to ${to}.`);
  }
}

/** A live session with this name already exists for the access key. */
export class SessionNameConflictError extends StoreError {
  constructor(
    readonly accessKey: string,
    readonly sessionName: string,
    readonly existingSessionId: string | null,
  ) {
    super(
      `A live session named ${sessionName} already exists for ${accessKey}.`,
    );
  }
}

/** A row with this unique key already exists (keypair, vfolder, ...). */
export class AlreadyExistsError extends StoreError {
  constructor(readonly entity: string, readonly key: string) {
    super(`${entity} already exists: ${key}`);
  }
}

/** A row cannot be deleted while others refer to it (a foreign key). */
export class InUseError extends StoreError {
  constructor(
    readonly entity: string,
    readonly key: string,
    /** What refers to it, for the operator: "12 sessions", "keypair AK...". */
    readonly usedBy: string,
  ) {
    super(`${entity} ${key} is still used by ${usedBy}`);
  }
}

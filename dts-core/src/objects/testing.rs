//! Test helpers: a builder for mock table schemas and a config builder.

use crate::config::{
    DatabaseSelection, DestinationConfig, Endpoint, ObjectSelection, TableSelection, TaskConfig,
};
use crate::schema::{Column, ColumnType, Index, TableId, TableSchema};

/// Builds a [`TableSchema`] column by column.
pub struct TableBuilder {
    schema: TableSchema,
}

/// Starts a table `db.name` with no columns.
pub fn table(db: &str, name: &str) -> TableBuilder {
    TableBuilder {
        schema: TableSchema {
            id: TableId::new(db, name),
            columns: Vec::new(),
            primary_key: Vec::new(),
            unique_keys: Vec::new(),
            indexes: Vec::new(),
            create_sql: None,
            constraints: Default::default(),
        },
    }
}

impl TableBuilder {
    /// Adds a column.
    pub fn column(mut self, c: Column) -> Self {
        self.schema.columns.push(c);
        self
    }

    fn typed(self, name: &str, t: ColumnType, text: &str) -> Self {
        self.column(Column::new(name, t, text))
    }

    /// `INT`.
    pub fn int(self, name: &str) -> Self {
        self.typed(
            name,
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            "int",
        )
    }

    /// `BIGINT UNSIGNED`.
    pub fn ubigint(self, name: &str) -> Self {
        self.typed(
            name,
            ColumnType::Integer {
                bytes: 8,
                unsigned: true,
            },
            "bigint unsigned",
        )
    }

    /// `DECIMAL(p,s)`.
    pub fn decimal(self, name: &str, precision: u8, scale: u8) -> Self {
        self.typed(
            name,
            ColumnType::Decimal { precision, scale },
            &format!("decimal({precision},{scale})"),
        )
    }

    /// `DOUBLE`.
    pub fn double(self, name: &str) -> Self {
        self.typed(name, ColumnType::Double, "double")
    }

    /// `VARCHAR(len)` with a utf8mb4 collation.
    pub fn varchar(self, name: &str, length: u32, collation: &str) -> Self {
        let mut c = Column::new(
            name,
            ColumnType::VarChar { length },
            format!("varchar({length})"),
        );
        c.charset = Some("utf8mb4".into());
        c.collation = Some(collation.into());
        self.column(c)
    }

    /// `VARBINARY(len)`.
    pub fn varbinary(self, name: &str, length: u32) -> Self {
        self.typed(
            name,
            ColumnType::VarBinary { length },
            &format!("varbinary({length})"),
        )
    }

    /// `DATE`.
    pub fn date(self, name: &str) -> Self {
        self.typed(name, ColumnType::Date, "date")
    }

    /// `DATETIME(6)`.
    pub fn datetime(self, name: &str) -> Self {
        self.typed(name, ColumnType::DateTime { fsp: 6 }, "datetime(6)")
    }

    /// `TIMESTAMP`.
    pub fn timestamp(self, name: &str) -> Self {
        self.typed(name, ColumnType::Timestamp { fsp: 0 }, "timestamp")
    }

    /// `TIME`.
    pub fn time(self, name: &str) -> Self {
        self.typed(name, ColumnType::Time { fsp: 0 }, "time")
    }

    /// `ENUM(...)`.
    pub fn enumeration(self, name: &str, members: &[&str]) -> Self {
        let mut c = Column::new(
            name,
            ColumnType::Enum {
                members: members.iter().map(|m| m.to_string()).collect(),
            },
            "enum",
        );
        c.collation = Some("utf8mb4_general_ci".into());
        self.column(c)
    }

    /// Makes the last added column NOT NULL.
    pub fn not_null(mut self) -> Self {
        if let Some(c) = self.schema.columns.last_mut() {
            c.nullable = false;
        }
        self
    }

    /// Sets the primary key (its columns become NOT NULL).
    pub fn pk(mut self, columns: &[&str]) -> Self {
        for c in &mut self.schema.columns {
            if columns.contains(&c.name.as_str()) {
                c.nullable = false;
            }
        }
        self.schema.primary_key = columns.iter().map(|c| c.to_string()).collect();
        self
    }

    /// Adds a unique key.
    pub fn unique(mut self, name: &str, columns: &[&str]) -> Self {
        self.schema.unique_keys.push(Index {
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            unique: true,
        });
        self
    }

    /// The schema.
    pub fn build(self) -> TableSchema {
        self.schema
    }
}

/// A MySQL-to-MySQL task selecting `objects`.
pub fn config(objects: ObjectSelection) -> TaskConfig {
    TaskConfig::new(
        Endpoint {
            host: Some("127.0.0.1".into()),
            user: Some("dts".into()),
            ..Endpoint::default()
        },
        DestinationConfig::mysql(Endpoint {
            host: Some("127.0.0.2".into()),
            user: Some("dts".into()),
            ..Endpoint::default()
        }),
        objects,
    )
}

/// A selection of whole databases.
pub fn whole(dbs: &[&str]) -> ObjectSelection {
    ObjectSelection {
        databases: dbs.iter().map(|d| DatabaseSelection::whole(*d)).collect(),
        ..ObjectSelection::default()
    }
}

/// A selection of database `db` with the given tables.
pub fn tables(db: &str, tables: Vec<TableSelection>) -> ObjectSelection {
    ObjectSelection {
        databases: vec![DatabaseSelection {
            name: db.into(),
            tables,
            ..DatabaseSelection::default()
        }],
        ..ObjectSelection::default()
    }
}

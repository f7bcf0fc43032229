use crate::{Emitter, IngestError};
use std::io::BufRead;

pub(crate) fn parse(_reader: impl BufRead, _emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    Err(IngestError::Unsupported("not implemented yet".into()))
}

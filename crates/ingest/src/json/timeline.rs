use crate::{Emitter, IngestError};
use std::io::BufRead;

pub(crate) fn parse(_reader: impl BufRead, _emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    Err(IngestError::Unsupported("not implemented yet".into()))
}
pub(crate) fn parse_android(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> { parse(reader, emit) }
pub(crate) fn parse_ios(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> { parse(reader, emit) }

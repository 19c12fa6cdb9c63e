from celery import shared_task

from dre.celery import RETRY_ON_TRANSIENT_ERRORS
from dre.symbols.services import symbol_file_index


@shared_task(queue="symbols", soft_time_limit=1800, time_limit=1900, **RETRY_ON_TRANSIENT_ERRORS)
def index_symbol_file(symbol_file_id: int) -> None:
    symbol_file_index(symbol_file_id)

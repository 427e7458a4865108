"""autosalon-client: the Autosalon API for Python partners.

`Client` (autosalon_client.client) signs in and calls the API's services through its edge;
`errors` holds what a refused call raises. The messages and stubs are the generated
`autosalon.<service>.v1.<service>_pb2` and `_pb2_grpc` modules shipped beside this package.
"""
from . import errors
from .client import Client, __version__

__all__ = ["Client", "errors", "__version__"]

"""REST/JSON gateway in front of the gRPC services (DESIGN.md §1, §7).

`gateway.app.create_app(settings)` builds the FastAPI app; `gateway.main.serve(settings)`
runs it under uvicorn.
"""

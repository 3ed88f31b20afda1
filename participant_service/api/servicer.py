"""ParticipantService over gRPC: translate the request, call one handler, translate the result."""

from __future__ import annotations

from kernel.errors import InvalidArgument, fields_under
from kernel.idempotency import fingerprint
from kernel.resources import resource_id
from kernel.unit_of_work import UnitOfWorkFactory
from participant_service.api.convert import KIND_FROM_PROTO, participant_to_proto, profile_from_proto
from participant_service.api.drafts import DraftMethods
from participant_service.application import participants, visitor_sign_in
from participant_service.application.drafts import Drafts
from turnout.participant.v1 import participant_pb2, participant_service_pb2, participant_service_pb2_grpc


class ParticipantServicer(DraftMethods, participant_service_pb2_grpc.ParticipantServiceServicer):
    def __init__(self, uow_factory: UnitOfWorkFactory, drafts: Drafts | None = None, *,
                 visitor_digest_key: bytes = b""):
        self._uow = uow_factory
        # Keys the digests of card numbers and phones in sign-in audit events.
        self._visitor_digest_key = visitor_digest_key
        # Drafts and documents (Redis, the document directory); None refuses those methods.
        self._drafts = drafts

    async def CreateParticipant(self, request: participant_service_pb2.CreateParticipantRequest, context) -> participant_pb2.Participant:
        kind = KIND_FROM_PROTO.get(request.participant.kind)
        if kind is None:
            raise InvalidArgument.single("participant.kind", "is not a known participant kind")
        command = participants.CreateParticipant(
            first_name=request.participant.first_name, last_name=request.participant.last_name, kind=kind,
            request_id=request.request_id, fingerprint=fingerprint(request),
            profile=profile_from_proto(request.participant),
        )
        with fields_under("participant"):
            participant = await participants.create_participant(command, self._uow)
        return participant_to_proto(participant)

    async def UpdateParticipant(self, request: participant_service_pb2.UpdateParticipantRequest, context) -> participant_pb2.Participant:
        p = request.participant
        participant_id = resource_id(p.name, "participants", field="participant.name")
        paths = tuple(request.update_mask.paths)
        participants.editable_paths(paths)  # names `update_mask`, so outside fields_under below
        kind = KIND_FROM_PROTO.get(p.kind)
        if "kind" in paths and (kind is None or p.kind == participant_pb2.PARTICIPANT_KIND_UNSPECIFIED):
            raise InvalidArgument.single("participant.kind", "must be a known participant kind")
        command = participants.UpdateParticipant(
            participant_id=participant_id, paths=paths, first_name=p.first_name, last_name=p.last_name,
            kind=kind or KIND_FROM_PROTO[participant_pb2.PARTICIPANT_KIND_UNSPECIFIED],
            profile=profile_from_proto(p), request_id=request.request_id, fingerprint=fingerprint(request),
        )
        with fields_under("participant"):
            participant = await participants.update_participant(command, self._uow)
        return participant_to_proto(participant)

    async def GetParticipant(self, request: participant_service_pb2.GetParticipantRequest, context) -> participant_pb2.Participant:
        participant_id = resource_id(request.name, "participants")
        return participant_to_proto(await participants.read_participant(participant_id, self._uow))

    async def ListParticipants(self, request: participant_service_pb2.ListParticipantsRequest, context) -> participant_service_pb2.ListParticipantsResponse:
        page = await participants.list_participants(request.page_size, request.page_token, self._uow,
                                                 query=request.query)
        return participant_service_pb2.ListParticipantsResponse(
            participants=[participant_to_proto(p) for p in page.participants],
            next_page_token=page.next_page_token,
        )

    async def VerifyVisitor(self, request: participant_service_pb2.VerifyVisitorRequest, context) -> participant_service_pb2.VerifyVisitorResponse:
        which = request.WhichOneof("identifier")
        command = visitor_sign_in.VerifyVisitor(
            last_name=request.last_name,
            card_number=request.card_number if which == "card_number" else None,
            phone=request.phone if which == "phone" else None)
        participant_id = await visitor_sign_in.verify_visitor(command, self._uow,
                                                              digest_key=self._visitor_digest_key)
        return participant_service_pb2.VerifyVisitorResponse(participant=f"participants/{participant_id}")

"""The hub: Charla's chat machinery, independent of the transport, in parts named for
their jobs. The Socket.IO namespaces (console/realtime/) validate and authenticate, then
call the visitor's or the agent's actions; everything else is shared underneath:

- `context`: settings, store, routing state, emitter, metrics, clock, tenant reads;
- `conversation`: store a message, then deliver it; sync; typing;
- `dispatch`: queue, assignment, and publishing the queue and presence;
- `chats`: a chat's life once started (language, lead, hand-off, requeue, close);
- `visitors`, `agents`: what each side does; `supervision`: assign, join, whisper, leave;
- `transcripts`: a visitor's transcript by e-mail, asked for and released at the close;
- `bots`: the bot runner, which reaches the hub only through `BotHost`;
- `upkeep`: grace periods, drift repair, rebuild after Redis lost its state;
- `cluster`: liveness of hub processes sharing one Redis.

`Hub.build` wires them; this module holds no logic of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.domain.clock import Clock
from console.hub.agents import AgentActions, Disconnect
from console.hub.bots import BotRunner
from console.hub.chats import ChatLifecycle
from console.hub.context import HubContext
from console.hub.conversation import Conversation
from console.hub.dispatch import Dispatcher
from console.hub.supervision import Supervision
from console.hub.transcripts import TranscriptByEmail
from console.hub.upkeep import Upkeep
from console.hub.visitors import VisitorActions
from console.realtime.rooms import Emitter
from console.routing.language import LanguageDetectors
from console.routing.state import RoutingState
from console.runtime.metrics import Metrics
from console.settings import Settings
from console.store.repository import Store


@dataclass(frozen=True)
class Hub:
    ctx: HubContext
    conversation: Conversation
    dispatcher: Dispatcher
    chats: ChatLifecycle
    bots: BotRunner
    visitors: VisitorActions
    agents: AgentActions
    upkeep: Upkeep
    supervision: Supervision
    transcripts: TranscriptByEmail

    @classmethod
    def build(
        cls,
        *,
        settings: Settings,
        store: Store,
        state: RoutingState,
        emitter: Emitter,
        metrics: Metrics,
        clock: Clock,
        detectors: LanguageDetectors,
        disconnect: Disconnect,
    ) -> Hub:
        ctx = HubContext(settings, store, state, emitter, metrics, clock)
        conversation = Conversation(ctx)
        dispatcher = Dispatcher(ctx, conversation)
        chats = ChatLifecycle(ctx, conversation, dispatcher, detectors)
        bots = BotRunner(chats, store)
        agents = AgentActions(ctx, conversation, dispatcher, chats, disconnect)
        return cls(
            ctx=ctx,
            conversation=conversation,
            dispatcher=dispatcher,
            chats=chats,
            bots=bots,
            visitors=VisitorActions(ctx, conversation, dispatcher, chats, bots),
            agents=agents,
            upkeep=Upkeep(ctx, dispatcher, chats, agents, bots),
            supervision=Supervision(ctx, conversation, dispatcher, chats, agents),
            transcripts=TranscriptByEmail(ctx),
        )

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def state(self) -> RoutingState:
        return self.ctx.state

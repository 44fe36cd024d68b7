from core.payload import payload_to_reply, reply_to_payload
from core.types import Button, Reply


def test_reply_survives_the_outbox_round_trip():
    reply = Reply.with_buttons(
        "本月还需联系 2 户", [[Button("张三", "rep:h:1")], [Button("李四", "rep:h:2")]]
    )
    reply = Reply(text=reply.text, buttons=reply.buttons, image_png=b"\x89PNG fake")
    again = payload_to_reply(reply_to_payload(reply))
    assert again == reply
    assert again.buttons[1][0].data == "rep:h:2"

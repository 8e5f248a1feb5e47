//! The modem's unsolicited codes, followed: new SMS are read and deleted,
//! registration changes become events, socket codes reach their sockets.

use thingstead_proto::at::{Arg, Command, Output, Urc};

use super::{Cellular, RECEIVED_SMS_CAPACITY, ReceivedSms};
use crate::device::Event;
use crate::device::modem::UrcReceiver;

pub(super) async fn run(modem: Cellular, mut urcs: UrcReceiver) {
    while let Some(urc) = urcs.recv().await {
        match urc {
            Urc::NewSms { index, .. } => match read_sms(&modem, index).await {
                Ok(Some(sms)) => deliver(&modem, sms),
                Ok(None) => tracing::warn!(index, "an announced SMS could not be read"),
                Err(e) => tracing::warn!(index, error = %e, "reading a received SMS failed"),
            },
            Urc::Registration { status, .. } => {
                let registered = status.is_registered();
                if !registered {
                    // Coverage lost: the modem's sockets are gone too.
                    modem.shared.sockets.close_all();
                }
                modem.set_connected(registered);
            }
            Urc::SocketData { socket, length } => modem.shared.sockets.data_waiting(socket, length),
            Urc::SocketClosed { socket } => modem.shared.sockets.peer_closed(socket),
        }
    }
}

/// `+CMGR` then `+CMGD`: the SMS at `index`, deleted from the SIM once read.
async fn read_sms(modem: &Cellular, index: u32) -> Result<Option<ReceivedSms>, super::CellularError> {
    let answer = modem
        .run(Command::set("+CMGR", vec![Arg::Int(i64::from(index))]))
        .await?;
    let Some(head) = answer.info("+CMGR") else {
        return Ok(None);
    };
    let from = head.str(1).unwrap_or_default().to_owned();
    let timestamp = head.str(3).unwrap_or_default().to_owned();
    // The text is the line after the header, whatever it looks like.
    let mut lines = answer
        .lines
        .iter()
        .skip_while(|l| !matches!(l, Output::Info(i) if i.name == "+CMGR"));
    lines.next();
    let text = match lines.next() {
        Some(Output::Text(t)) => t.clone(),
        Some(Output::Info(i)) => i.name.clone() + ":" + &super::param_list(&i.params),
        _ => String::new(),
    };
    modem
        .run(Command::set("+CMGD", vec![Arg::Int(i64::from(index))]))
        .await?;
    Ok(Some(ReceivedSms { from, timestamp, text }))
}

fn deliver(modem: &Cellular, sms: ReceivedSms) {
    {
        let mut inbox = modem.shared.inbox.lock().unwrap_or_else(|p| p.into_inner());
        if inbox.len() >= RECEIVED_SMS_CAPACITY {
            inbox.pop_front();
            tracing::warn!("received SMS not taken: dropped the oldest");
        }
        inbox.push_back(sms.clone());
    }
    let _ = modem.shared.sms.send(sms.clone());
    let _ = modem.shared.events.send(Event::SmsReceived(sms));
}
